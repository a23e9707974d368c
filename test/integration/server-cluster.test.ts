/**
 * SERVER_WORKERS=2: the real server as a node:cluster of two HTTP workers on
 * one port and one SQLite store. Concurrent batches from many connections are
 * all stored exactly once, drift counts stay exact, and /metrics aggregates
 * the workers' counters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogueSongs, fixtureModel, makeLog } from '../../server/testing/fixtures.ts';
import { type SpawnedServer, spawnServer } from '../../server/testing/spawn-server.ts';

describe('cluster mode (SERVER_WORKERS=2)', () => {
  let server: SpawnedServer;
  let version: string;
  beforeAll(async () => {
    const model = await fixtureModel({ salt: 'cluster' });
    version = model.manifest.version;
    server = await spawnServer({ port: 8730, model, env: { SERVER_WORKERS: '2' } });
  });
  afterAll(async () => server?.stop());

  it('stores concurrent batches exactly once across workers and aggregates metrics', async () => {
    const auth = { authorization: `Bearer ${server.adminToken}` };
    const songs = catalogueSongs().slice(0, 400);
    const day = '2026-05-05T10:00:00Z';
    const batches = Array.from({ length: 12 }, (_, b) =>
      songs
        .slice(b * 25, b * 25 + 100)
        .map((s) => makeLog(s, { deviceId: 'd', modelVersion: version, createdAt: day })),
    );
    const post = (logs: unknown) =>
      fetch(`${server.url}/api/v1/logs`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ logs }),
      });
    // Each batch twice, all at once: the retries must come back as duplicates.
    const answers = await Promise.all([...batches, ...batches].map(post));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { stored: string[]; duplicates: string[] }[];
    const duplicates = bodies.reduce((a, b) => a + b.duplicates.length, 0);
    expect(duplicates).toBe(12 * 100);
    const rep = (await (
      await fetch(`${server.url}/api/v1/drift/report?version=${version}&from=2026-05-05&to=2026-05-05`, {
        headers: auth,
      })
    ).json()) as {
      rows: number;
      distinct: number;
    };
    // Overlapping song windows: 12 × 100 rows, songs 0…374 distinct.
    expect(rep.rows).toBe(1200);
    expect(rep.distinct).toBe(375);
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: auth })).text();
    const stored = Number(/jukebox_logs_ingested_total\{result="stored"\} (\d+)/.exec(metrics)?.[1]);
    const dup = Number(/jukebox_logs_ingested_total\{result="duplicate"\} (\d+)/.exec(metrics)?.[1]);
    expect([stored, dup]).toEqual([1200, 1200]);
  });
});
