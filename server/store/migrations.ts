/**
 * Schema migrations, in code, run in order at start. The same DDL serves
 * SQLite and PostgreSQL (only the blob type differs).
 */
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Dialect } from './store.ts';

/** Audit actions earlier versions wrote for device events (not `device-token-issue`, which is governance). */
const OLD_DEVICE_ACTIONS = [
  'device-model-activated',
  'device-model-refused',
  'device-model-rolled-back',
  'device-shadow-refused',
  'device-drift-warning',
];

function migrations(dialect: Dialect): Record<string, Migration> {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  const real = dialect === 'postgres' ? 'double precision' : 'real';
  return {
    '001-initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('logs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('device_id', 'text', (c) => c.notNull())
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('backend', 'text', (c) => c.notNull())
          .addColumn('latency_ms', real as 'real', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('song_id', 'text')
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('inputs', blob as 'blob', (c) => c.notNull())
          .addColumn('outputs', blob as 'blob', (c) => c.notNull())
          .addColumn('shadow', 'text')
          .execute();
        await db.schema.createIndex('logs_version_day').on('logs').columns(['model_version', 'day']).execute();
        await db.schema
          .createTable('day_fingerprints')
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('day_fingerprints_pk', ['model_version', 'day', 'fingerprint'])
          .execute();
        await db.schema
          .createTable('drift_buckets')
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('stats', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('drift_buckets_pk', ['model_version', 'day'])
          .execute();
        await db.schema
          .createTable('song_predictions')
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('song_id', 'text')
          .addColumn('outputs', blob as 'blob', (c) => c.notNull())
          .addPrimaryKeyConstraint('song_predictions_pk', ['model_version', 'fingerprint'])
          .execute();
        await db.schema
          .createIndex('song_predictions_song')
          .on('song_predictions')
          .columns(['model_version', 'song_id'])
          .execute();
        await db.schema
          .createTable('outcomes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('song_id', 'text')
          .addColumn('fingerprint', 'text')
          .addColumn('country', 'text', (c) => c.notNull())
          .addColumn('charted', 'integer', (c) => c.notNull())
          .addColumn('date', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('device_id', 'text')
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('outcomes_date').on('outcomes').columns(['date']).execute();
        await db.schema
          .createTable('models')
          .addColumn('version', 'text', (c) => c.primaryKey())
          .addColumn('stage', 'text', (c) => c.notNull())
          .addColumn('manifest', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('published_at', 'text', (c) => c.notNull())
          .addColumn('published_by', 'text', (c) => c.notNull())
          .addColumn('replaced', 'text')
          .execute();
        await db.schema
          .createTable('model_files')
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('sha256', 'text', (c) => c.notNull())
          .addColumn('bytes', 'integer', (c) => c.notNull())
          .addColumn('data', blob as 'blob', (c) => c.notNull())
          .addPrimaryKeyConstraint('model_files_pk', ['version', 'path'])
          .execute();
        await db.schema
          .createTable('tokens')
          .addColumn('hash', 'text', (c) => c.primaryKey())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('subject', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('revoked_at', 'text')
          .execute();
        await db.schema.createIndex('tokens_subject').on('tokens').columns(['subject']).execute();
        await db.schema
          .createTable('enrollment_codes')
          .addColumn('hash', 'text', (c) => c.primaryKey())
          .addColumn('created_by', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'text', (c) => c.notNull())
          .addColumn('used_at', 'text')
          .addColumn('device_id', 'text')
          .execute();
        await db.schema
          .createTable('devices')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('label', 'text')
          .addColumn('enrolled_at', 'text', (c) => c.notNull())
          .addColumn('last_seen_at', 'text')
          .addColumn('last_event_at', 'text')
          .addColumn('last_version', 'text')
          .addColumn('logs_total', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('revoked_at', 'text')
          .execute();
        await db.schema
          .createTable('rollout')
          .addColumn('id', 'integer', (c) => c.primaryKey())
          .addColumn('canary_version', 'text')
          .addColumn('canary_percent', real as 'real', (c) => c.notNull())
          .addColumn('shadow_version', 'text')
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('audit')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('details', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('alerts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('episode_key', 'text', (c) => c.notNull())
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('metric', 'text', (c) => c.notNull())
          .addColumn('feature', 'text')
          .addColumn('severity', 'text', (c) => c.notNull())
          .addColumn('value', real as 'real', (c) => c.notNull())
          .addColumn('threshold', real as 'real', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('opened_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('resolved_at', 'text')
          .addColumn('notified_at', 'text')
          .execute();
        await db.schema.createIndex('alerts_episode').on('alerts').columns(['episode_key', 'resolved_at']).execute();
        await db.schema
          .createTable('catalogue')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('artists', 'text', (c) => c.notNull())
          .addColumn('features', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '002-shadow-buckets': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('shadow_buckets')
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('shadow_version', 'text', (c) => c.notNull())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('stats', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('shadow_buckets_pk', ['model_version', 'shadow_version', 'day'])
          .execute();
      },
    },
    '003-jobs-settings': {
      async up(db: Kysely<unknown>) {
        // Retraining jobs started by an alert or an admin, run one at a time by server/jobs/job-runner.ts.
        await db.schema
          .createTable('jobs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('trigger', 'text', (c) => c.notNull())
          .addColumn('alert_id', 'text')
          .addColumn('requested_by', 'text', (c) => c.notNull())
          .addColumn('command', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('started_at', 'text')
          .addColumn('finished_at', 'text')
          .addColumn('exit_code', 'integer')
          .addColumn('log_tail', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('candidate_version', 'text')
          .execute();
        await db.schema.createIndex('jobs_status').on('jobs').columns(['status']).execute();
        await db.schema
          .createTable('settings')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('updated_by', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '004-trust-boundary': {
      async up(db: Kysely<unknown>) {
        // Enrollment codes an admin issues for one existing device (re-enrollment), optionally resetting its pinned key.
        await db.schema.alterTable('enrollment_codes').addColumn('for_device_id', 'text').execute();
        await db.schema
          .alterTable('enrollment_codes')
          .addColumn('reset_key', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        // Device telemetry apart from governance audit: server ids and receive time, so no device clock orders it.
        await db.schema
          .createTable('device_events')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('device_id', 'text', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('version', 'text', (c) => c.notNull())
          .addColumn('code', 'text')
          .addColumn('message', 'text')
          .addColumn('at', 'text', (c) => c.notNull())
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addUniqueConstraint('device_events_device_event', ['device_id', 'event_id'])
          .execute();
        await db.schema.createIndex('device_events_device').on('device_events').columns(['device_id', 'id']).execute();
        // Device events written into the audit log by earlier versions move to their own table.
        const old = await sql<{ id: string; actor: string; action: string; at: string; details: string }>`
          SELECT id, actor, action, at, details FROM audit WHERE action IN (${sql.join(OLD_DEVICE_ACTIONS)})`.execute(
          db,
        );
        for (const r of old.rows) {
          const d = JSON.parse(r.details) as { version?: string; code?: string; message?: string; receivedAt?: string };
          await sql`INSERT INTO device_events (id, device_id, event_id, kind, version, code, message, at, received_at)
            VALUES (${r.id}, ${r.actor}, ${r.id}, ${r.action.slice('device-'.length)}, ${d.version ?? ''}, ${d.code ?? null},
                    ${d.message ?? null}, ${r.at}, ${d.receivedAt ?? r.at})
            ON CONFLICT DO NOTHING`.execute(db);
        }
        await sql`DELETE FROM audit WHERE action IN (${sql.join(OLD_DEVICE_ACTIONS)})`.execute(db);
        // One run of a periodic task (alert evaluation) per interval across every instance on this store.
        await db.schema
          .createTable('scheduler_runs')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('slot', 'bigint', (c) => c.notNull())
          .addColumn('claimed_by', 'text', (c) => c.notNull())
          .addColumn('claimed_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('scheduler_runs_pk', ['name', 'slot'])
          .execute();
        await db.schema.alterTable('jobs').addColumn('heartbeat_at', 'text').execute();
        // At most one retraining job queued or running, whichever instance queued it (the store decides, not a
        // check-then-insert that two instances can both pass). Older stores may hold several: keep the oldest.
        await sql`UPDATE jobs SET status = 'failed', log_tail = '(superseded: one job at a time)'
          WHERE status IN ('queued', 'running')
            AND id <> (SELECT MIN(id) FROM jobs WHERE status IN ('queued', 'running'))`.execute(db);
        await sql`CREATE UNIQUE INDEX jobs_one_active ON jobs (kind) WHERE status IN ('queued', 'running')`.execute(db);
      },
    },
    '005-monitoring': {
      async up(db: Kysely<unknown>) {
        // What produced each log (null on rows stored before the field: derived from `source`).
        await db.schema.alterTable('logs').addColumn('traffic', 'text').execute();
        // Which statistic an alert episode is about (its value and threshold are that statistic's).
        await db.schema.alterTable('alerts').addColumn('statistic', 'text').execute();
        // Outcomes are matched to every stored prediction of a song id (or fingerprint), not one per fingerprint.
        await db.schema.createIndex('logs_version_song').on('logs').columns(['model_version', 'song_id']).execute();
        await db.schema
          .createIndex('logs_version_fingerprint')
          .on('logs')
          .columns(['model_version', 'fingerprint'])
          .execute();
        // One row per (version, traffic kind, song): the days it was predicted on, the device that first
        // predicted it, its reference bins. A drift window counts each song once, whatever the days.
        await db.schema
          .createTable('drift_songs')
          .addColumn('model_version', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('song_key', 'text', (c) => c.notNull())
          .addColumn('device_id', 'text', (c) => c.notNull())
          .addColumn('first_day', 'text', (c) => c.notNull())
          .addColumn('last_day', 'text', (c) => c.notNull())
          .addColumn('days', 'text', (c) => c.notNull())
          .addColumn('bins', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('drift_songs_pk', ['model_version', 'kind', 'song_key'])
          .execute();
        // A chart upload stored as the chart: who charted where on a date, and which songs and countries it
        // covers. "Did not chart" outcomes are derived at query time (songs × countries − entries).
        await db.schema
          .createTable('chart_dates')
          .addColumn('date', 'text', (c) => c.primaryKey())
          .addColumn('countries', 'text', (c) => c.notNull())
          .addColumn('complete', 'integer', (c) => c.notNull())
          .addColumn('uploaded_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('chart_songs')
          .addColumn('date', 'text', (c) => c.notNull())
          .addColumn('song_id', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('chart_songs_pk', ['date', 'song_id'])
          .execute();
        await db.schema
          .createTable('chart_entries')
          .addColumn('date', 'text', (c) => c.notNull())
          .addColumn('song_id', 'text', (c) => c.notNull())
          .addColumn('country', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('chart_entries_pk', ['date', 'song_id', 'country'])
          .execute();
      },
    },
    '006-drift-window-index': {
      async up(db: Kysely<unknown>) {
        // A drift window reads (device, bins) of the songs whose last day is on or after its start: this index
        // answers that read alone (no lookup of each row and its day list), ordered so a recent window reads
        // only its songs (server/drift/window-songs.ts, loadWindowSample).
        await db.schema
          .createIndex('drift_songs_window')
          .on('drift_songs')
          .columns(['model_version', 'kind', 'last_day', 'first_day', 'device_id', 'bins'])
          .execute();
      },
    },
    '007-prediction-days': {
      async up(db: Kysely<unknown>) {
        // Outcome matching reads the latest prediction of each day per song (and per fingerprint) from this
        // table, written once per new (song, day, kind) at ingest, instead of every log through two indexes on
        // `logs` that every insert had to maintain at random positions (issue 12: ingest p99).
        await createPredictionDays(db, 'outputs', blob);
        await db.schema.dropIndex('logs_version_song').execute();
        await db.schema.dropIndex('logs_version_fingerprint').execute();
      },
    },
    '008-prediction-day-log-ids': {
      async up(db: Kysely<unknown>) {
        // A prediction day names the log that made it instead of copying its 72 outputs (576 bytes): ingest
        // rewrites a day's row whenever a later prediction of the song arrives, and those copies were more than half
        // of what a 500-log batch wrote to the write-ahead log (issue 12: ingest p99). Rebuilt from the stored logs
        // with the same rule as 007.
        await db.schema.dropTable('prediction_days').execute();
        await createPredictionDays(db, 'log_id', 'text');
      },
    },
  };
}

/**
 * `prediction_days` filled from the stored logs: per key, kind and day the greatest created_at (a tie: the greater
 * id, the later write within a batch). Each row holds the log's `outputs` (007) or its id, `log_id` (008).
 */
async function createPredictionDays(
  db: Kysely<unknown>,
  value: 'outputs' | 'log_id',
  type: 'blob' | 'bytea' | 'text',
): Promise<void> {
  await db.schema
    .createTable('prediction_days')
    .addColumn('model_version', 'text', (c) => c.notNull())
    .addColumn('match_key', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn(value, type as 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('prediction_days_pk', ['model_version', 'match_key', 'kind', 'day'])
    .execute();
  const kind = sql`COALESCE(traffic, CASE WHEN source = 'batch' THEN 'batch' ELSE 'interactive' END)`;
  const column = sql.raw(value);
  const source = sql.raw(value === 'outputs' ? 'outputs' : 'id');
  for (const [key, where] of [
    [sql`'s:' || song_id`, sql`song_id IS NOT NULL`],
    [sql`'f:' || fingerprint`, sql`1 = 1`],
  ] as const) {
    await sql`INSERT INTO prediction_days (model_version, match_key, kind, day, created_at, ${column})
      SELECT model_version, match_key, kind, day, created_at, ${source} FROM (
        SELECT model_version, ${key} AS match_key, ${kind} AS kind, day, created_at, ${source},
          ROW_NUMBER() OVER (PARTITION BY model_version, ${key}, ${kind}, day ORDER BY created_at DESC, id DESC) AS r
        FROM logs WHERE ${where}
      ) latest WHERE r = 1`.execute(db);
  }
}

class InCodeProvider implements MigrationProvider {
  readonly #dialect: Dialect;
  constructor(dialect: Dialect) {
    this.#dialect = dialect;
  }
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations(this.#dialect);
  }
}

/** The migrator over this file's migrations (tests move a store to an older one with `migrateTo`). */
export function migrator(db: Kysely<unknown>, dialect: Dialect): Migrator {
  return new Migrator({ db, provider: new InCodeProvider(dialect) });
}

export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({ db, provider: new InCodeProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) throw new Error(`migration ${failed?.migrationName ?? ''} failed`, { cause: error });
}
