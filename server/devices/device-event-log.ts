/**
 * Device events in the store: a device reports what happened to model updates on it (refused, rolled back,
 * activated, shadow refused, drift warning). Telemetry, kept apart from the governance audit log in its own table:
 * the server gives each event its own id (UUIDv7 at receipt) and receive time, so a device's clock orders nothing;
 * each device keeps at most DEVICE_EVENTS_PER_DEVICE events (its oldest go first) and events older than the
 * retention are dropped. A retried report is stored once (device id + the device's event id).
 */
import type { Kysely } from 'kysely';
import { uuidv7 } from 'uuidv7';
import type { DeviceEvent, DeviceEventView } from '../../model/contract/index.ts';
import type { Database } from '../store/schema.ts';

/** The newest events kept per device: enough for months of updates, too few for one device to fill the table. */
export const DEVICE_EVENTS_PER_DEVICE = 1000;
/** Events received longer ago than this are dropped (checked at most once an hour per instance). */
export const DEVICE_EVENTS_RETENTION_DAYS = 90;

export class DeviceEventLog {
  #lastRetention = 0;

  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Stores a device's events (a retried one once) and trims the device to its newest N. */
  async record(deviceId: string, events: readonly DeviceEvent[]): Promise<void> {
    const receivedAt = new Date().toISOString();
    await this.#db.transaction().execute(async (tx) => {
      await tx
        .insertInto('device_events')
        .values(
          events.map((e) => ({
            id: uuidv7(),
            device_id: deviceId,
            event_id: e.id,
            kind: e.kind,
            version: e.version,
            code: e.code ?? null,
            message: e.message ?? null,
            at: e.at,
            received_at: receivedAt,
          })),
        )
        .onConflict((oc) => oc.columns(['device_id', 'event_id']).doNothing())
        .execute();
      // The cap: everything of this device older than its newest N.
      const cutoff = await tx
        .selectFrom('device_events')
        .select('id')
        .where('device_id', '=', deviceId)
        .orderBy('id', 'desc')
        .offset(DEVICE_EVENTS_PER_DEVICE)
        .limit(1)
        .executeTakeFirst();
      if (cutoff)
        await tx.deleteFrom('device_events').where('device_id', '=', deviceId).where('id', '<=', cutoff.id).execute();
    });
    if (Date.now() - this.#lastRetention > 3_600_000) {
      this.#lastRetention = Date.now();
      const before = new Date(Date.now() - DEVICE_EVENTS_RETENTION_DAYS * 86_400_000).toISOString();
      await this.#db.deleteFrom('device_events').where('received_at', '<', before).execute();
    }
  }

  /** Newest first by receipt (at most 500); `deviceId` filters to one device. */
  async list(deviceId?: string): Promise<DeviceEventView[]> {
    let q = this.#db.selectFrom('device_events').selectAll().orderBy('id', 'desc').limit(500);
    if (deviceId) q = q.where('device_id', '=', deviceId);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: r.event_id,
      at: r.at,
      receivedAt: r.received_at,
      deviceId: r.device_id,
      kind: r.kind,
      version: r.version,
      ...(r.code !== null ? { code: r.code } : {}),
      ...(r.message !== null ? { message: r.message } : {}),
    }));
  }
}
