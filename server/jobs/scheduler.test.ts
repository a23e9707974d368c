import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestServer, type TestServer } from '../testing/harness.ts';
import { claimSlot, schedulePeriodic } from './scheduler.ts';

const PG = process.env.TEST_DATABASE_URL;
if (!PG) console.warn('scheduler: PostgreSQL case SKIPPED (no TEST_DATABASE_URL; see .ci/postgres.sh)');

for (const store of ['sqlite', ...(PG ? ['postgres'] : [])] as const) {
  describe(`scheduler on ${store}`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await createTestServer(store === 'postgres' ? { postgresUrl: PG as string } : {});
    });
    afterAll(async () => s?.close());

    it('hands each interval slot to exactly one claimant', async () => {
      const t = Date.parse('2026-12-03T10:00:00.500Z');
      const claims = await Promise.all(
        ['a', 'b', 'c', 'd'].map((who) => claimSlot(s.deps.store, 'task', 60_000, t, who)),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await claimSlot(s.deps.store, 'task', 60_000, t + 30_000, 'e')).toBe(false); // same minute
      expect(await claimSlot(s.deps.store, 'task', 60_000, t + 60_000, 'e')).toBe(true); // next one
      expect(await claimSlot(s.deps.store, 'other', 60_000, t, 'a')).toBe(true); // tasks are independent
    });

    it('two schedulers on one store run the task once per interval between them', async () => {
      let runs = 0;
      const task = async () => {
        runs++;
      };
      const stops = [1, 2].map(() => schedulePeriodic(s.deps.store, 'periodic', 0.2, task, () => {}));
      await new Promise((r) => setTimeout(r, 1100));
      for (const stop of stops) stop();
      // 1.1 s / 0.2 s ≈ 5 slots; both timers fire twice a slot, so without the claim there would be ~20 runs.
      expect(runs).toBeGreaterThanOrEqual(3);
      expect(runs).toBeLessThanOrEqual(7);
    });
  });
}
