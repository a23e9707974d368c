/**
 * Periodic tasks across instances: every instance (and every worker of a cluster) runs the timer, and for each
 * interval slot (`floor(now / interval)`) the first instance to insert the (task, slot) row into the store runs
 * the task; the others find the row taken and skip. So N instances on one PostgreSQL evaluate alerts exactly once
 * per interval, and the evaluation carries on when any one instance stops. No local timer decides alone and no
 * lock is held while the task runs (the slot row is the lock). Old slot rows are pruned as they go.
 */
import { hostname } from 'node:os';
import type { Store } from '../store/store.ts';

/** This process, as it signs its claims. */
export const INSTANCE_ID = `${hostname()}:${process.pid}`;

/** Claims `name`'s slot for `now`; true when this caller won it and must run the task. */
export async function claimSlot(
  store: Store,
  name: string,
  intervalMs: number,
  now = Date.now(),
  instance = INSTANCE_ID,
): Promise<boolean> {
  const slot = Math.floor(now / intervalMs);
  const row = await store.db
    .insertInto('scheduler_runs')
    .values({ name, slot, claimed_by: instance, claimed_at: new Date(now).toISOString() })
    .onConflict((oc) => oc.columns(['name', 'slot']).doNothing())
    .returning('slot')
    .executeTakeFirst();
  if (row && slot % 100 === 0) {
    // Keep a day or so of claims for inspection; the table stays small.
    await store.db
      .deleteFrom('scheduler_runs')
      .where('name', '=', name)
      .where('slot', '<', slot - Math.max(100, Math.ceil(86_400_000 / intervalMs)))
      .execute();
  }
  return row !== undefined;
}

/**
 * Runs `task` once per `intervalS` across all instances sharing `store`. The timer fires twice per interval here,
 * so a slot is not missed when timers of different instances drift; the claim keeps it to one run. Returns a stopper.
 */
export function schedulePeriodic(
  store: Store,
  name: string,
  intervalS: number,
  task: () => Promise<void>,
  log: (line: string) => void,
): () => void {
  const intervalMs = intervalS * 1000;
  let running = false;
  const timer = setInterval(
    () => {
      if (running) return;
      running = true;
      claimSlot(store, name, intervalMs)
        .then((won) => (won ? task() : undefined))
        .catch((e: unknown) => log(`${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`))
        .finally(() => {
          running = false;
        });
    },
    Math.max(100, intervalMs / 2),
  );
  timer.unref();
  return () => clearInterval(timer);
}
