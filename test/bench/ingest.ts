/**
 * Ingest benchmark: the real server in its own process on loopback, loaded by
 * autocannon from this process with 500-log batches (fresh ids every request,
 * songs from the real catalogue), on SQLite and — when TEST_DATABASE_URL is
 * set — PostgreSQL. Beside it, the bare storage ceiling: the same rows
 * inserted with a prepared statement in one transaction per batch, no HTTP,
 * no validation, no drift statistics.
 *
 * SQLite runs twice: one process, and SERVER_WORKERS=2 (node:cluster, both
 * cores parse and validate; SQLite serialises the writes). A third SQLite row
 * measures the p99 of the same ingest while an admin uploads a chart CSV of
 * 20,000 songs × 72 countries (again and again, for UPLOAD_DURATION seconds, default 20: ~500 batches, so the
 * p99 is not just the slowest two),
 * beside the same ingest without the upload.
 *
 *   npx tsx test/bench/ingest.ts            (DURATION=15 CONNECTIONS=2 to change)
 *   UPLOAD_ONLY=1 npx tsx test/bench/ingest.ts   (only the chart-upload rows)
 *   PROFILE_DIR=/tmp/prof UPLOAD_ONLY=1 …        (and the server's CPU profile of those rows)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import { apiClient, bearer } from '../../model/client/api-client.ts';
import { COUNTRY_CODES, ENDPOINTS, featureFingerprint, toVector } from '../../model/contract/index.ts';
import { encodeVector } from '../../server/store/vectors.ts';
import { catalogueSongs, fixtureModel, makeLog } from '../../server/testing/fixtures.ts';
import { spawnServer } from '../../server/testing/spawn-server.ts';
import { emitResult, verdict } from './report.ts';

const BATCH = 500;
const DURATION = Number(process.env.DURATION ?? 15);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 2);
const TARGET_LOGS_PER_S = 30_000;
const TARGET_P99_MS = 100;

const songs = catalogueSongs();
const model = await fixtureModel();
const version = model.manifest.version;

/** Batch templates split at the ids, so each request gets fresh ids for the price of a join. */
function templates(deviceId: string, count: number): string[][] {
  return Array.from({ length: count }, (_, t) => {
    const logs = Array.from({ length: BATCH }, (_, i) => ({
      ...makeLog(songs[(t * BATCH + i * 7) % songs.length]!, { deviceId, modelVersion: version }),
      id: '__ID__',
    }));
    return JSON.stringify({ logs }).split('"__ID__"');
  });
}

function bodyFrom(parts: string[]): string {
  let s = parts[0] as string;
  for (let i = 1; i < parts.length; i++) s += `"${uuidv7()}"${parts[i]}`;
  return s;
}

/**
 * The autocannon request for log batches from the endpoint table, path and headers built once: only the body
 * (fresh ids) is made per request.
 */
function logsRequest(token: string, tpl: string[][]) {
  let n = 0;
  return {
    method: 'POST',
    path: ENDPOINTS.uploadLogs.path,
    headers: { 'content-type': 'application/json', authorization: bearer(token) },
    setupRequest: (req: object) => ({ ...req, body: bodyFrom(tpl[n++ % tpl.length] as string[]) }),
  };
}

interface Row {
  store: string;
  batchesPerS: number;
  logsPerS: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  stored: number;
}

/** A table row from an autocannon run of log batches. */
function rowOf(store: string, r: Awaited<ReturnType<typeof autocannon>>, stored: number): Row {
  const ok = r['2xx'];
  return {
    store,
    batchesPerS: ok / r.duration,
    logsPerS: (ok * BATCH) / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors + r.non2xx + r.timeouts,
    stored,
  };
}

async function runServer(store: string, port: number, env: Record<string, string>): Promise<Row> {
  const server = await spawnServer({ port, model, env: { RATE_LIMIT_PER_MINUTE: '100000000', ...env } });
  try {
    const enrolled = { token: await benchDevice(server.url, server.adminToken, 'bench-device') };
    const tpl = templates('bench-device', 24);
    const request = logsRequest(enrolled.token, tpl);
    // Warm-up (JIT, SQLite page cache), then the measured run.
    await autocannon({ url: server.url, connections: CONNECTIONS, duration: 3, requests: [request] });
    const r = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      duration: DURATION,
      timeout: 30,
      requests: [request],
    });
    const answer = await apiClient(server.url, server.adminToken).call('overview');
    if (!answer.ok) throw new Error(`overview: ${answer.status} ${answer.code}: ${answer.message}`);
    const overview = answer.value;
    return rowOf(store, r, overview.logsPerVersion[version]?.rows ?? 0);
  } finally {
    await server.stop();
  }
}

/** A chart of `songs` songs covering all 72 countries, each song charted in 3 of them (`spotify_id,country`). */
function chartCsv(songs: number, seed: number): string {
  const lines = ['spotify_id,country'];
  for (let i = 0; i < songs; i++) {
    const id = `bench${seed}x${i.toString(36).padStart(8, '0')}`;
    for (let k = 0; k < 3; k++) lines.push(`${id},${COUNTRY_CODES[(i * 7 + k * 24) % COUNTRY_CODES.length]}`);
  }
  return `${lines.join('\n')}\n`;
}

interface UploadRow {
  quiet: Row;
  busy: Row;
  uploads: number;
  uploadMs: number[];
}

/** Ingest p99 with and without chart uploads of 20,000 songs × 72 countries running beside it. */
async function runUploadContention(port: number, seconds: number): Promise<UploadRow> {
  const server = await spawnServer({
    port,
    model,
    env: { RATE_LIMIT_PER_MINUTE: '100000000' },
    // PROFILE_DIR=dir writes the server's CPU profile of this row (open it in Chrome DevTools).
    nodeArgs: process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`] : [],
  });
  try {
    const admin = apiClient(server.url, server.adminToken);
    const enrolled = { token: await benchDevice(server.url, server.adminToken, 'bench-device') };
    const tpl = templates('bench-device', 24);
    const request = logsRequest(enrolled.token, tpl);
    const measure = async (label: string): Promise<Row> => {
      const r = await autocannon({
        url: server.url,
        connections: CONNECTIONS,
        duration: seconds,
        timeout: 30,
        requests: [request],
      });
      return rowOf(label, r, 0);
    };
    // Warm-up until every template was sent twice: the first sight of each song on the day (its drift and
    // matching rows) is paid here, so the row without an upload is not the one that pays it.
    await autocannon({ url: server.url, connections: CONNECTIONS, amount: tpl.length * 2, requests: [request] });
    const quiet = await measure('sqlite, 1 process, no upload');
    const csvs = [0, 1, 2].map((k) => chartCsv(20_000, k));
    let stop = false;
    const uploadMs: number[] = [];
    const uploader = (async () => {
      for (let k = 0; !stop; k++) {
        const t = performance.now();
        const r = await admin.call('uploadChartCsv', {
          query: { date: `2026-0${1 + (k % 9)}-1${k % 10}` },
          encoded: { body: csvs[k % csvs.length] as string, headers: { 'content-type': 'text/csv' } },
        });
        if (!r.ok) throw new Error(`chart upload failed: ${r.status} ${r.code}: ${r.message}`);
        uploadMs.push(performance.now() - t);
      }
    })();
    const busy = await measure('sqlite, 1 process, while a 20,000 × 72 chart uploads');
    stop = true;
    await uploader;
    return { quiet, busy, uploads: uploadMs.length, uploadMs };
  } finally {
    await server.stop();
  }
}

/** The bare storage ceiling on SQLite: same table, prepared insert, one transaction per batch. */
function bareSqlite(seconds: number, synchronous: 'FULL' | 'NORMAL' = 'NORMAL'): number {
  const dir = mkdtempSync(join(tmpdir(), 'jukebox-bare-'));
  const db = new SQLite(join(dir, 'bare.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(
    'CREATE TABLE logs (id text primary key, device_id text, model_version text, backend text, latency_ms real, created_at text, day text, received_at text, source text, song_id text, fingerprint text, inputs blob, outputs blob, shadow text)',
  );
  const ins = db.prepare('INSERT INTO logs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING');
  const logs = Array.from({ length: BATCH }, (_, i) =>
    makeLog(songs[i % songs.length]!, { deviceId: 'd', modelVersion: version }),
  );
  const tx = db.transaction((now: string) => {
    for (const l of logs) {
      ins.run(
        uuidv7(),
        l.deviceId,
        l.modelVersion,
        l.backend,
        l.latencyMs,
        l.createdAt,
        l.createdAt.slice(0, 10),
        now,
        l.source,
        l.songId ?? null,
        featureFingerprint(l.inputs),
        encodeVector(toVector(l.inputs)),
        encodeVector(l.outputs),
        null,
      );
    }
  });
  let batches = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    tx(new Date().toISOString());
    batches++;
  }
  const rate = (batches * BATCH) / ((performance.now() - t0) / 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function freshPgDatabase(url: string, suffix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `jukebox_bench_${process.pid}_${suffix}`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: url });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await d.end();
    },
  };
}

/** Enrolls a bench device on a running server; returns its token. */
async function benchDevice(url: string, adminToken: string, deviceId: string): Promise<string> {
  const code = await apiClient(url, adminToken).call('createEnrollmentCode');
  if (!code.ok) throw new Error(`enrollment code: ${code.status} ${code.code}: ${code.message}`);
  const r = await apiClient(url, null).call('enroll', { json: { code: code.value.code, deviceId } });
  if (!r.ok) throw new Error(`enroll: ${r.status} ${r.code}: ${r.message}`);
  return r.value.token;
}

/** Loads one server with fresh 500-log batches for `seconds`; logs/s and latency. */
async function loadServer(url: string, token: string, deviceId: string, seconds: number) {
  const tpl = templates(deviceId, 12);
  const request = logsRequest(token, tpl);
  await autocannon({ url, connections: CONNECTIONS, duration: 2, requests: [request] });
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, timeout: 30, requests: [request] });
  return {
    logsPerS: (r['2xx'] * BATCH) / r.duration,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx + r.timeouts,
  };
}

/** Short rows added for issue 12; seconds each (ROW_DURATION). */
const ROW_DURATION = Number(process.env.ROW_DURATION ?? 5);

interface AlternatingResult {
  rounds: number;
  runs: { logsPerS: number; p99: number; errors: number }[][];
  medians: { logsPerS: number; p99: number }[];
  errors: number;
}
type Median = AlternatingResult['medians'][number];

/**
 * Servers side by side (one per env), loaded in turn (A, B, …, A, B, …; SYNC_ROUNDS rounds of ROW_DURATION s
 * each), so a noisy machine hits them alike; the medians are reported.
 */
async function alternating(envs: Record<string, string>[], ports: number[]) {
  const rounds = Number(process.env.SYNC_ROUNDS ?? 3);
  const servers = await Promise.all(
    envs.map((_, i) =>
      spawnServer({
        port: ports[i] as number,
        model,
        env: { RATE_LIMIT_PER_MINUTE: '100000000', ...envs[i] },
      }),
    ),
  );
  const runs: AlternatingResult['runs'] = envs.map(() => []);
  try {
    const tokens = await Promise.all(servers.map((s) => benchDevice(s.url, s.adminToken, 'bench-ab')));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < servers.length; i++) {
        const server = servers[i] as (typeof servers)[number];
        (runs[i] as AlternatingResult['runs'][number]).push(
          await loadServer(server.url, tokens[i] as string, 'bench-ab', ROW_DURATION),
        );
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  return {
    rounds,
    runs,
    medians: runs.map((rs) => ({ logsPerS: median(rs.map((r) => r.logsPerS)), p99: median(rs.map((r) => r.p99)) })),
    errors: runs.flat().reduce((n, r) => n + r.errors, 0),
  } satisfies AlternatingResult;
}

/**
 * Acknowledged means durable: SQLite's group commit (the default: commits unsynced, each answer after a shared
 * fsync of the log off the event loop) against a synced commit (FULL) and no sync at all (NORMAL, which may lose
 * the last acknowledged batches on a power cut).
 */
async function durability(): Promise<void> {
  const modes = ['GROUP', 'FULL', 'NORMAL'] as const;
  const ab = await alternating(
    modes.map((m) => ({ SQLITE_SYNCHRONOUS: m })),
    [8714, 8718, 8722],
  );
  const [group, full, normal] = ab.medians as [Median, Median, Median];
  const runs = (i: number) => (ab.runs[i] ?? []).map((r) => `${f(r.logsPerS)} (p99 ${f(r.p99)} ms)`).join(', ');
  console.log(
    `\nsqlite durability, ${ab.rounds} alternating rounds of ${ROW_DURATION} s: ${modes.map((m, i) => `${m} ${runs(i)}`).join('; ')}; medians GROUP ${f(group.logsPerS)} logs/s p99 ${f(group.p99)} ms, FULL ${f(full.logsPerS)} p99 ${f(full.p99)}, NORMAL ${f(normal.logsPerS)} p99 ${f(normal.p99)}; errors ${ab.errors}`,
  );
  emitResult({
    bench: 'ingest',
    metric: `SQLite group commit (default; every answer after its batch is synced), 1 process, median of ${ab.rounds} × ${ROW_DURATION} s alternating`,
    ours: `${f(group.logsPerS)} logs/s, p99 ${f(group.p99)} ms`,
    peer: `synchronous=FULL ${f(full.logsPerS)} logs/s, p99 ${f(full.p99)} ms (NORMAL, not durable: p99 ${f(normal.p99)} ms)`,
    ratio: `p99 ${f(group.p99 / full.p99, 2)}×`,
    target: `p99 ≤ 100 ms ${verdict(group.p99 <= TARGET_P99_MS)}`,
  });
}

/**
 * Checkpoints on their own thread (the default) against SQLite's auto-checkpoint inside the commit that fills
 * the write-ahead log (server/store/wal-checkpointer.ts): the p99 of log batches, both with synchronous=FULL.
 */
async function checkpointThreadVsCommit(): Promise<void> {
  const ab = await alternating([{ SQLITE_CHECKPOINT: 'thread' }, { SQLITE_CHECKPOINT: 'commit' }], [8719, 8721]);
  const [thread, commit] = ab.medians as [Median, Median];
  const [threadRuns, commitRuns] = ab.runs as [AlternatingResult['runs'][number], AlternatingResult['runs'][number]];
  console.log(
    `\nsqlite checkpoint on a thread vs in the commit, ${ab.rounds} alternating rounds of ${ROW_DURATION} s (p99 ms): thread ${threadRuns.map((r) => f(r.p99)).join(', ')}; commit ${commitRuns.map((r) => f(r.p99)).join(', ')}; medians thread ${f(thread.logsPerS)} logs/s, p99 ${f(thread.p99)} ms; commit ${f(commit.logsPerS)} logs/s, p99 ${f(commit.p99)} ms; p99 thread/commit ${f(thread.p99 / commit.p99, 2)}×; errors ${ab.errors}`,
  );
  emitResult({
    bench: 'ingest',
    metric: `SQLite checkpoint on its own thread vs in the commit (auto-checkpoint), 1 process, median of ${ab.rounds} × ${ROW_DURATION} s alternating`,
    ours: `${f(thread.logsPerS)} logs/s, p99 ${f(thread.p99)} ms`,
    peer: `auto-checkpoint in the commit ${f(commit.logsPerS)} logs/s, p99 ${f(commit.p99)} ms`,
    ratio: `p99 ${f(thread.p99 / commit.p99, 2)}×`,
    target: `p99 ≤ 100 ms ${verdict(thread.p99 <= TARGET_P99_MS)}`,
  });
}

/**
 * Log batches parsed on their own thread (the default on 2+ cores, server/ingest/log-parse-pool.ts) against
 * parsed on the event loop (INGEST_PARSE_THREADS=0).
 */
async function parseThreadVsInProcess(): Promise<void> {
  const ab = await alternating([{ INGEST_PARSE_THREADS: '1' }, { INGEST_PARSE_THREADS: '0' }], [8723, 8724]);
  const [thread, inProcess] = ab.medians as [Median, Median];
  const [threadRuns, inRuns] = ab.runs as [AlternatingResult['runs'][number], AlternatingResult['runs'][number]];
  console.log(
    `\nlog batches parsed on a thread vs on the event loop, ${ab.rounds} alternating rounds of ${ROW_DURATION} s (p99 ms): thread ${threadRuns.map((r) => f(r.p99)).join(', ')}; event loop ${inRuns.map((r) => f(r.p99)).join(', ')}; medians thread ${f(thread.logsPerS)} logs/s, p99 ${f(thread.p99)} ms; event loop ${f(inProcess.logsPerS)} logs/s, p99 ${f(inProcess.p99)} ms; errors ${ab.errors}`,
  );
  emitResult({
    bench: 'ingest',
    metric: `log batches parsed on a thread vs on the event loop, 1 process, median of ${ab.rounds} × ${ROW_DURATION} s alternating`,
    ours: `${f(thread.logsPerS)} logs/s, p99 ${f(thread.p99)} ms`,
    peer: `INGEST_PARSE_THREADS=0 ${f(inProcess.logsPerS)} logs/s, p99 ${f(inProcess.p99)} ms`,
    ratio: `p99 ${f(thread.p99 / inProcess.p99, 2)}×, logs/s ${f(thread.logsPerS / inProcess.logsPerS, 2)}×`,
    target: `p99 ≤ 100 ms ${verdict(thread.p99 <= TARGET_P99_MS)}`,
  });
}

/**
 * Several instances, one PostgreSQL: two server processes on one database, each loaded by its own device at the
 * same time, against one process alone on a fresh database in the same run.
 */
async function twoInstancesPostgres(url: string): Promise<void> {
  const one = await freshPgDatabase(url, 'one');
  let single: { logsPerS: number; p99: number; errors: number };
  try {
    const server = await spawnServer({
      port: 8715,
      model,
      env: { RATE_LIMIT_PER_MINUTE: '100000000', DATABASE_URL: one.url },
    });
    try {
      const token = await benchDevice(server.url, server.adminToken, 'bench-one');
      single = await loadServer(server.url, token, 'bench-one', ROW_DURATION);
    } finally {
      await server.stop();
    }
  } finally {
    await one.drop();
  }
  const two = await freshPgDatabase(url, 'two');
  try {
    const env = { RATE_LIMIT_PER_MINUTE: '100000000', DATABASE_URL: two.url };
    const a = await spawnServer({ port: 8716, model, env });
    const b = await spawnServer({ port: 8717, model, env: { ...env, ADMIN_TOKEN: a.adminToken } });
    try {
      const [ta, tb] = [
        await benchDevice(a.url, a.adminToken, 'bench-a'),
        await benchDevice(b.url, a.adminToken, 'bench-b'),
      ];
      const [ra, rb] = await Promise.all([
        loadServer(a.url, ta, 'bench-a', ROW_DURATION),
        loadServer(b.url, tb, 'bench-b', ROW_DURATION),
      ]);
      const total = ra.logsPerS + rb.logsPerS;
      const p99 = Math.max(ra.p99, rb.p99);
      console.log(
        `\npostgres, 2 instances: ${f(total)} logs/s (${f(ra.logsPerS)} + ${f(rb.logsPerS)}), worst p99 ${f(p99)} ms, errors ${ra.errors + rb.errors}; 1 instance ${f(single.logsPerS)} logs/s, p99 ${f(single.p99)} ms`,
      );
      emitResult({
        bench: 'ingest',
        metric: `PostgreSQL, 2 server instances on one database, both loaded at once, ${ROW_DURATION} s`,
        ours: `${f(total)} logs/s, worst p99 ${f(p99)} ms`,
        peer: `1 instance ${f(single.logsPerS)} logs/s, p99 ${f(single.p99)} ms`,
        ratio: `${f(total / single.logsPerS, 2)}×`,
        target: `p99 ≤ 100 ms ${verdict(p99 <= TARGET_P99_MS)}`,
      });
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  } finally {
    await two.drop();
  }
}

const f = (x: number, d = 0) => x.toFixed(d);
const UPLOAD_ONLY = process.env.UPLOAD_ONLY === '1';
const rows: Row[] = [];
console.log(
  `ingest benchmark: ${BATCH}-log batches, ${CONNECTIONS} connections, ${DURATION} s per store (after a 3 s warm-up)`,
);
if (!UPLOAD_ONLY) {
  rows.push(await runServer('sqlite, 1 process', 8710, {}));
  rows.push(await runServer('sqlite, SERVER_WORKERS=2', 8712, { SERVER_WORKERS: '2' }));
}
const upload = await runUploadContention(8714, Number(process.env.UPLOAD_DURATION ?? 20));
const pgUrl = UPLOAD_ONLY ? undefined : process.env.TEST_DATABASE_URL;
if (pgUrl) {
  for (const [label, port, workers] of [
    ['postgres, 1 process', 8711, '1'],
    ['postgres, SERVER_WORKERS=2', 8713, '2'],
  ] as const) {
    const db = await freshPgDatabase(pgUrl, workers);
    try {
      rows.push(await runServer(label, port, { DATABASE_URL: db.url, SERVER_WORKERS: workers }));
    } finally {
      await db.drop();
    }
  }
} else {
  console.warn('postgres: SKIPPED (set TEST_DATABASE_URL, e.g. `source .ci/postgres.sh && start_test_postgres`)');
}
const bare = bareSqlite(UPLOAD_ONLY ? 1 : 5);

// Issue 12: durability (group commit, FULL, NORMAL) and two instances on one PostgreSQL, short rows.
{
  // The storage floor alone, FULL and NORMAL alternating (1 s each, 6 rounds): what a synced commit costs here.
  const bare: Record<'FULL' | 'NORMAL', number[]> = { FULL: [], NORMAL: [] };
  for (let i = 0; i < 6; i++) for (const m of ['FULL', 'NORMAL'] as const) bare[m].push(bareSqlite(1, m));
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const [full, normal] = [med(bare.FULL), med(bare.NORMAL)];
  console.log(
    `\nbare SQLite insert, 500-row transactions, 6 alternating rounds of 1 s: FULL ${f(full)} logs/s (${f((BATCH / full) * 1000, 2)} ms per batch), NORMAL ${f(normal)} logs/s (${f((BATCH / normal) * 1000, 2)} ms); FULL/NORMAL ${f(full / normal, 2)}×`,
  );
}
await durability();
await checkpointThreadVsCommit();
await parseThreadVsInProcess();
if (pgUrl) await twoInstancesPostgres(pgUrl);

console.log(
  '\n| store | batches/s | logs/s | p50 ms | p99 ms | max ms | errors | rows stored | logs/s ÷ target 30,000 | p99 ÷ target 100 ms | logs/s ÷ bare SQLite insert |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.store} | ${f(r.batchesPerS, 1)} | ${f(r.logsPerS)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ${r.errors} | ${r.stored} | ${f(r.logsPerS / TARGET_LOGS_PER_S, 2)}× | ${f(r.p99 / TARGET_P99_MS, 2)}× | ${f(r.logsPerS / bare, 2)}× |`,
  );
}
console.log(
  `| bare SQLite insert (no HTTP, no validation, no drift stats; one process) | — | ${f(bare)} | — | — | — | — | — | ${f(bare / TARGET_LOGS_PER_S, 2)}× | — | 1.00× |`,
);
const up = upload.uploadMs.sort((a, b) => a - b);
console.log(
  `\n| ingest while a chart uploads | logs/s | p50 ms | p99 ms | max ms | errors | p99 ÷ no upload | p99 ÷ target 100 ms |\n|---|---|---|---|---|---|---|---|`,
);
for (const r of [upload.quiet, upload.busy]) {
  console.log(
    `| ${r.store} | ${f(r.logsPerS)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.max)} | ${r.errors} | ${f(r.p99 / upload.quiet.p99, 2)}× | ${f(r.p99 / TARGET_P99_MS, 2)}× |`,
  );
}
console.log(
  `${upload.uploads} chart uploads of 20,000 songs × 72 countries (60,000 chart rows, 1.44 M outcomes) completed during the run; each took ${f(up[0] ?? 0)}–${f(up[up.length - 1] ?? 0)} ms.`,
);
emitResult({
  bench: 'ingest',
  // The name stays the same from run to run (bench:ab matches rows by it); the upload count goes with the numbers.
  metric: `POST ${ENDPOINTS.uploadLogs.path} p99 while a 20,000-song × 72-country chart CSV uploads`,
  ours: `p99 ${f(upload.busy.p99)} ms (${f(upload.busy.logsPerS)} logs/s; ${upload.uploads} uploads in the run)`,
  peer: `no upload: p99 ${f(upload.quiet.p99)} ms`,
  ratio: `${f(upload.busy.p99 / upload.quiet.p99, 2)}×`,
  target: `p99 ≤ 100 ms ${verdict(upload.busy.p99 <= TARGET_P99_MS)}; uploads complete ${verdict(upload.uploads > 0)}`,
});
for (const r of rows) {
  emitResult({
    bench: 'ingest',
    metric: `POST ${ENDPOINTS.uploadLogs.path}, ${BATCH}-log batches, ${r.store}`,
    ours: `${f(r.logsPerS)} logs/s, p99 ${f(r.p99)} ms`,
    peer: `bare SQLite insert ${f(bare)} logs/s`,
    ratio: `${f(r.logsPerS / bare, 2)}×`,
    target: `≥ 30,000 logs/s ${verdict(r.logsPerS >= TARGET_LOGS_PER_S)}; p99 ≤ 100 ms ${verdict(r.p99 <= TARGET_P99_MS)}`,
  });
}
