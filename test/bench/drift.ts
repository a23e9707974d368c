/**
 * Drift report benchmark: 1,000,000 prediction logs ingested (through the
 * real ingest path, in-process, SQLite) over 30 days, then a 30-day drift
 * report (the window's songs from \`drift_songs\` counted per device, raw
 * counts from the mergeable daily buckets), beside a straightforward full
 * rescan of the logs table that computes the same report from raw rows.
 * Both must agree; the table prints the times and their ratio.
 *
 *   npx tsx test/bench/drift.ts        (LOGS=1000000 to change)
 *
 * BENCH_DATA_DIR=/tmp/x keeps the ingested store there and reuses it on the next run (skips the ingest),
 * to time the report again after a change without minutes of ingest.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../server/config.ts';
import { addDistinct, addRow, emptyBucket } from '../../server/drift/bucket.ts';
import { driftReport } from '../../server/drift/report.ts';
import { sampleOf, songBins, songKey, type WindowSong } from '../../server/drift/window-songs.ts';
import { createServices } from '../../server/services.ts';
import { decodeVector } from '../../server/store/vectors.ts';
import { catalogueSongs, fixtureModel, makeLog, rng } from '../../server/testing/fixtures.ts';
import { emitResult, verdict } from './report.ts';

const LOGS = Number(process.env.LOGS ?? 1_000_000);
const DAYS = 30;
const BATCH = 1000;

const keep = process.env.BENCH_DATA_DIR;
if (keep) mkdirSync(keep, { recursive: true });
const dir = keep ?? mkdtempSync(join(tmpdir(), 'jukebox-drift-bench-'));
const ready = join(dir, 'bench-ready.json');
const reuse = keep !== undefined && existsSync(ready);
const config = loadConfig(
  {},
  { dataDir: dir, defaultModelDir: join(dir, 'none'), cataloguePath: join(dir, 'none.csv'), alertIntervalS: 0 },
);
const deps = await createServices(config, { log: () => {} });
const songs = catalogueSongs();
let version: string;
if (reuse) {
  version = (JSON.parse(readFileSync(ready, 'utf8')) as { version: string }).version;
  console.log(`reusing the store in ${dir} (version ${version})`);
} else {
  const model = await fixtureModel({ songs: songs.slice(0, 2000).map((s) => s.features) });
  await deps.registry.publish(model.manifest, new Map(Object.entries(model.files)), 'bench', 'production');
  version = model.manifest.version;
}

// Logs: each day draws from the whole catalogue with repeats; half of the last 10 days has danceability +0.2.
const r = rng(1);
const t0 = performance.now();
const start = Date.parse('2026-10-01T00:00:00Z');
for (let done = 0; !reuse && done < LOGS; done += BATCH) {
  const logs = [];
  for (let i = 0; i < BATCH && done + i < LOGS; i++) {
    const n = done + i;
    const day = Math.floor((n / LOGS) * DAYS);
    const createdAt = new Date(start + day * 86_400_000 + Math.floor(r() * 86_400_000)).toISOString();
    const song = songs[Math.floor(r() * songs.length)]!;
    logs.push(
      makeLog(song, {
        deviceId: `dev-${n % 50}`,
        modelVersion: version,
        createdAt,
        danceShift: day >= 20 && r() < 0.5 ? 0.2 : 0,
      }),
    );
  }
  await deps.logIngest.ingest(logs, null);
  if ((done / BATCH) % 100 === 0) process.stdout.write(`\ringested ${done.toLocaleString()} logs`);
}
const ingestS = (performance.now() - t0) / 1000;
if (keep && !reuse) writeFileSync(ready, JSON.stringify({ version }));
if (!reuse)
  console.log(
    `\ringested ${LOGS.toLocaleString()} logs in ${ingestS.toFixed(1)} s (${Math.round(LOGS / ingestS).toLocaleString()} logs/s in-process)`,
  );

const window = { from: '2026-10-01', to: '2026-10-30' };
const ref = (await deps.registry.reference(version))!;

// The first report after start (cold caches), then the median of 7.
const tc = performance.now();
let fast = await deps.drift.report(version, window);
const coldMs = performance.now() - tc;
const merged: number[] = [];
for (let i = 0; i < 7; i++) {
  const t = performance.now();
  fast = await deps.drift.report(version, window);
  merged.push(performance.now() - t);
}
merged.sort((a, b) => a - b);
const mergedMs = merged[3] as number;

// Full rescan: read every log of the window, count each song once (attributed to the device of its earliest
// day, binned by its first log) and each input once per day for the raw bucket, build the histograms, same report.
const t1 = performance.now();
const sqlite = deps.store.sqlite!;
const b = emptyBucket(ref);
const seen = new Set<string>();
const songs1 = new Map<string, WindowSong>();
const rows = sqlite
  .prepare(
    'SELECT day, fingerprint, song_id, device_id, inputs, outputs FROM logs WHERE model_version = ? AND day >= ? AND day <= ? ORDER BY rowid',
  )
  .iterate(version, window.from, window.to) as IterableIterator<{
  day: string;
  fingerprint: string;
  song_id: string | null;
  device_id: string;
  inputs: Uint8Array;
  outputs: Uint8Array;
}>;
for (const row of rows) {
  const inputs = decodeVector(row.inputs);
  addRow(b, ref, inputs);
  const k = `${row.day}|${row.fingerprint}`;
  const outputs = decodeVector(row.outputs);
  if (!seen.has(k)) {
    seen.add(k);
    addDistinct(b, ref, inputs, outputs);
  }
  const key = songKey(row.song_id, row.fingerprint);
  const s = songs1.get(key);
  if (!s) {
    songs1.set(key, { key, device: row.device_id, days: [row.day], bins: JSON.parse(songBins(ref, inputs, outputs)) });
  } else if (!s.days.includes(row.day)) {
    if (s.days.every((d) => row.day < d)) s.device = row.device_id;
    s.days.push(row.day);
  }
}
const slow = driftReport(
  ref,
  sampleOf(ref, [...songs1.values()], config.thresholds.maxDeviceShare),
  b,
  config.thresholds,
);
const rescanMs = performance.now() - t1;

// Both must agree exactly on counts and closely on statistics.
const agree =
  slow.rows === fast.rows &&
  slow.distinct === fast.distinct &&
  slow.effectiveN === fast.effectiveN &&
  JSON.stringify(slow.devices) === JSON.stringify(fast.devices) &&
  slow.features.every((f, i) => JSON.stringify(f.observed) === JSON.stringify(fast.features[i]?.observed)) &&
  JSON.stringify(slow.outputs.top1Observed) === JSON.stringify(fast.outputs.top1Observed) &&
  slow.features.every((f, i) => Math.abs(f.psi - (fast.features[i]?.psi ?? Number.NaN)) < 1e-9);
const dance = fast.features.find((f) => f.name === 'danceability')!;
console.log(
  `\nwindow ${window.from}…${window.to}: ${fast.rows.toLocaleString()} rows, ${fast.distinct.toLocaleString()} distinct songs, ${fast.days} daily buckets; danceability PSI ${dance.psi.toFixed(3)} (${dance.status}); results agree: ${agree}`,
);
console.log('\n| drift report over 1M logs | time (ms) | vs target 100 ms | speed-up vs full rescan |');
console.log('|---|---|---|---|');
console.log(
  `| window songs counted per device + daily buckets (ours, median of 7) | ${mergedMs.toFixed(1)} | ${(mergedMs / 100).toFixed(2)}× | ${(rescanMs / mergedMs).toFixed(0)}× |`,
);
console.log(
  `| same, first report after start | ${coldMs.toFixed(1)} | ${(coldMs / 100).toFixed(2)}× | ${(rescanMs / coldMs).toFixed(0)}× |`,
);
console.log(
  `| full rescan of the logs table (baseline) | ${rescanMs.toFixed(0)} | ${(rescanMs / 100).toFixed(1)}× | 1× |`,
);
emitResult({
  bench: 'drift',
  metric: `drift report, ${fast.rows.toLocaleString()} logs over ${fast.days} days`,
  ours: `${mergedMs.toFixed(1)} ms (median of 7; first ${coldMs.toFixed(1)} ms)`,
  peer: `full rescan ${rescanMs.toFixed(0)} ms`,
  ratio: `${(rescanMs / mergedMs).toFixed(0)}× faster`,
  target: `≤ 100 ms ${verdict(mergedMs <= 100)}; ≥ 50× ${verdict(rescanMs / mergedMs >= 50)}; agree ${agree}`,
});
await deps.store.close();
if (!keep) rmSync(dir, { recursive: true, force: true });
if (!agree) process.exitCode = 1;
