/**
 * Retraining jobs: an alert (when an admin has switched auto-retraining on)
 * or an admin queues a job; the runner spawns the configured command with the
 * server's URL and a job-scoped admin token (revoked when the job ends) in its
 * environment, one job at a time, keeps the tail of its output, and stores
 * status, exit code and the candidate version the job published (found in
 * the audit log under the job's own actor) in the store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { uuidv7 } from 'uuidv7';
import {
  type AlertView,
  JOB_STATUSES,
  type JobStatus,
  type JobView,
  type RetrainSettings,
} from '../../model/contract/admin-api.ts';
import type { TokenService } from '../auth/tokens.ts';
import { DomainError } from '../domain-error.ts';
import { recordAudit } from '../registry/audit.ts';
import type { JobsTable } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

export { JOB_STATUSES, type JobStatus, type JobView, type RetrainSettings };

export interface JobRunnerOptions {
  command: string | undefined;
  autoOnAlertDefault: boolean;
  timeoutS: number;
  log: (line: string) => void;
}

const TAIL_BYTES = 16_384;
/** A running job whose runner has not beaten its heartbeat (every 2 s) for this long was left by a dead process. */
const HEARTBEAT_STALE_MS = 30_000;
const SETTING_KEY = 'retrain.autoOnAlert';

function view(r: JobsTable): JobView {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status as JobStatus,
    trigger: r.trigger as JobView['trigger'],
    alertId: r.alert_id,
    requestedBy: r.requested_by,
    command: r.command,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    exitCode: r.exit_code,
    logTail: r.log_tail,
    candidateVersion: r.candidate_version,
  };
}

/** A unique-constraint error from PostgreSQL (23505) or SQLite. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** Keeps the last `max` characters of a stream of chunks. */
class Tail {
  #text = '';
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  push(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > this.#max * 2) this.#text = this.#text.slice(-this.#max);
  }
  toString(): string {
    return this.#text.length > this.#max ? `…${this.#text.slice(-this.#max)}` : this.#text;
  }
}

export class JobRunner {
  /** The server's own base URL, given to the command (set once the listener knows its port). */
  serverUrl = '';
  /** Only one process of a cluster runs jobs; the others only queue them. */
  active = true;
  #running: { id: string; child: ChildProcess } | null = null;
  #pumping: Promise<void> | null = null;
  #poll: NodeJS.Timeout | undefined;

  readonly #store: Store;
  readonly #tokens: TokenService;
  readonly #opts: JobRunnerOptions;
  constructor(store: Store, tokens: TokenService, opts: JobRunnerOptions) {
    this.#store = store;
    this.#tokens = tokens;
    this.#opts = opts;
  }

  async settings(): Promise<RetrainSettings> {
    const row = await this.#store.db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', SETTING_KEY)
      .executeTakeFirst();
    return {
      autoOnAlert: row ? (JSON.parse(row.value) as boolean) : this.#opts.autoOnAlertDefault,
      source: row ? 'setting' : 'config',
      command: this.#opts.command ?? null,
    };
  }

  async setAutoOnAlert(on: boolean, actor: string): Promise<RetrainSettings> {
    if (on && !this.#opts.command) {
      throw new DomainError('conflict', { problem: 'RETRAIN_COMMAND is not configured on the server' });
    }
    const values = {
      key: SETTING_KEY,
      value: JSON.stringify(on),
      updated_at: new Date().toISOString(),
      updated_by: actor,
    };
    await this.#store.db
      .insertInto('settings')
      .values(values)
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({ value: values.value, updated_at: values.updated_at, updated_by: actor }),
      )
      .execute();
    await recordAudit(this.#store.db, actor, 'retrain-auto', { autoOnAlert: on });
    return this.settings();
  }

  /** Queues a job; throws `conflict` when no command is configured or a job is already queued or running. */
  async start(t: {
    trigger: 'alert' | 'manual';
    alertId?: string | null;
    actor: string;
    reason?: string;
  }): Promise<JobView> {
    const command = this.#opts.command;
    if (!command) throw new DomainError('conflict', { problem: 'RETRAIN_COMMAND is not configured on the server' });
    const busy = await this.#store.db
      .selectFrom('jobs')
      .select(['id', 'status'])
      .where('status', 'in', ['queued', 'running'])
      .executeTakeFirst();
    if (busy)
      throw new DomainError('conflict', { problem: 'a retraining job is already queued or running', job: busy.id });
    const row: JobsTable = {
      id: uuidv7(),
      kind: 'retrain',
      status: 'queued',
      trigger: t.trigger,
      alert_id: t.alertId ?? null,
      requested_by: t.actor,
      command,
      created_at: new Date().toISOString(),
      started_at: null,
      finished_at: null,
      exit_code: null,
      log_tail: '',
      candidate_version: null,
    };
    try {
      await this.#store.db.insertInto('jobs').values(row).execute();
    } catch (e) {
      // Another instance queued one between the check and this insert: the store's unique index (one queued or
      // running job) decides, so two instances never run two jobs at once.
      if (isUniqueViolation(e))
        throw new DomainError('conflict', { problem: 'a retraining job is already queued or running' });
      throw e;
    }
    await recordAudit(this.#store.db, t.actor, 'retrain-queued', {
      job: row.id,
      trigger: t.trigger,
      alertId: row.alert_id,
      ...(t.reason ? { reason: t.reason } : {}),
    });
    this.#kick();
    return view(row);
  }

  /** Newly opened alerts: with auto-retraining on, the first alert-severity one starts a job (if none is busy). */
  async onAlertsOpened(alerts: readonly AlertView[]): Promise<JobView | null> {
    const first = alerts.find((a) => a.severity === 'alert');
    if (!first || !this.#opts.command) return null;
    if (!(await this.settings()).autoOnAlert) return null;
    try {
      return await this.start({ trigger: 'alert', alertId: first.id, actor: 'alerts' });
    } catch (e) {
      if (e instanceof DomainError && e.code === 'conflict') return null; // one job at a time: this episode waits
      throw e;
    }
  }

  async list(limit = 50): Promise<JobView[]> {
    const rows = await this.#store.db.selectFrom('jobs').selectAll().orderBy('id', 'desc').limit(limit).execute();
    return rows.map(view);
  }

  async get(id: string): Promise<JobView | null> {
    const r = await this.#store.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? view(r) : null;
  }

  /**
   * At start: jobs left running by a process that died are failed, and their tokens revoked. A job another
   * instance is running right now beats its heartbeat every 2 s and is left alone.
   */
  async recover(): Promise<number> {
    const before = new Date(Date.now() - HEARTBEAT_STALE_MS).toISOString();
    const stale = await this.#store.db
      .selectFrom('jobs')
      .select('id')
      .where('status', '=', 'running')
      .where((eb) => eb.or([eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', before)]))
      .execute();
    for (const j of stale) {
      await this.#tokens.revokeSubject('admin', `job:${j.id}`);
      await this.#store.db
        .updateTable('jobs')
        .set({
          status: 'failed',
          finished_at: new Date().toISOString(),
          log_tail: '(the server stopped while the job ran)',
        })
        .where('id', '=', j.id)
        .execute();
    }
    return stale.length;
  }

  /** Picks up jobs queued by other processes of a cluster. */
  startPolling(intervalMs = 5000): void {
    this.#poll = setInterval(() => this.#kick(), intervalMs);
    this.#poll.unref();
  }

  stop(): void {
    if (this.#poll) clearInterval(this.#poll);
    if (this.#running?.child.pid) {
      try {
        process.kill(-this.#running.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }

  /** Resolves when no job is running and none is queued for this process to run (tests). */
  async idle(): Promise<void> {
    while (this.#pumping) await this.#pumping;
  }

  #kick(): void {
    if (!this.active || this.#pumping) return;
    this.#pumping = this.#pump()
      .catch((e: unknown) =>
        this.#opts.log(`retraining job runner failed: ${e instanceof Error ? e.stack : String(e)}`),
      )
      .finally(() => {
        this.#pumping = null;
      });
  }

  async #pump(): Promise<void> {
    for (;;) {
      const next = await this.#store.db
        .selectFrom('jobs')
        .selectAll()
        .where('status', '=', 'queued')
        .orderBy('id')
        .executeTakeFirst();
      if (!next) return;
      // Claim it (another process may race for it: only the one whose update changes the row runs it).
      const claimed = await this.#store.db
        .updateTable('jobs')
        .set({ status: 'running', started_at: new Date().toISOString(), heartbeat_at: new Date().toISOString() })
        .where('id', '=', next.id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) continue;
      await this.#run(next);
    }
  }

  async #run(job: JobsTable): Promise<void> {
    const actor = `job:${job.id}`;
    const token = await this.#tokens.issue('admin', actor);
    const tail = new Tail(TAIL_BYTES);
    this.#opts.log(`retraining job ${job.id} started: ${job.command}`);
    let exitCode: number | null = null;
    try {
      const child = spawn('sh', ['-c', job.command], {
        env: { ...process.env, JUKEBOX_SERVER: this.serverUrl, JUKEBOX_ADMIN_TOKEN: token, JUKEBOX_JOB_ID: job.id },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Own process group, so a timeout ends the command and everything it started.
        detached: true,
      });
      this.#running = { id: job.id, child };
      child.stdout?.on('data', (d: Buffer) => tail.push(d.toString()));
      child.stderr?.on('data', (d: Buffer) => tail.push(d.toString()));
      const flush = setInterval(() => {
        // Best effort: the final tail is written when the job ends.
        this.#store.db
          .updateTable('jobs')
          .set({ log_tail: tail.toString(), heartbeat_at: new Date().toISOString() })
          .where('id', '=', job.id)
          .execute()
          .catch(() => {});
      }, 2000);
      const timeout = setTimeout(() => {
        tail.push(`\n[job runner] killed after ${this.#opts.timeoutS} s\n`);
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, this.#opts.timeoutS * 1000);
      exitCode = await new Promise<number | null>((resolve) => {
        child.on('error', (e) => {
          tail.push(`\n[job runner] could not start: ${e.message}\n`);
          resolve(null);
        });
        child.on('close', (code) => resolve(code));
      });
      clearInterval(flush);
      clearTimeout(timeout);
    } finally {
      this.#running = null;
      await this.#tokens.revokeSubject('admin', actor);
    }
    const published = await this.#store.db
      .selectFrom('audit')
      .select('details')
      .where('actor', '=', actor)
      .where('action', '=', 'publish')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    const candidate = published ? ((JSON.parse(published.details) as { version?: string }).version ?? null) : null;
    const status: JobStatus = exitCode === 0 ? 'succeeded' : 'failed';
    await this.#store.db
      .updateTable('jobs')
      .set({
        status,
        exit_code: exitCode,
        finished_at: new Date().toISOString(),
        log_tail: tail.toString(),
        candidate_version: candidate,
      })
      .where('id', '=', job.id)
      .execute();
    await recordAudit(this.#store.db, 'job-runner', 'retrain-finished', {
      job: job.id,
      status,
      exitCode,
      candidate,
    });
    this.#opts.log(
      `retraining job ${job.id} ${status} (exit ${exitCode})${candidate ? `: candidate ${candidate}` : ''}`,
    );
  }
}
