/**
 * The audit log: one row per governance action (publish, canary, promote,
 * rollback, shadow, archive, enrollment codes, enrollments, device-token
 * issue, revocations, retraining jobs) with actor and time, and its export
 * as JSON or CSV for auditors.
 */
import type { Kysely } from 'kysely';
import Papa from 'papaparse';
import { uuidv7 } from 'uuidv7';
import type { AuditEntry } from '../../model/contract/index.ts';
import type { Database } from '../store/schema.ts';

export type { AuditEntry };

export async function recordAudit(
  db: Kysely<Database>,
  actor: string,
  action: string,
  details: Record<string, unknown>,
): Promise<void> {
  await db
    .insertInto('audit')
    .values({ id: uuidv7(), at: new Date().toISOString(), actor, action, details: JSON.stringify(details) })
    .execute();
}

export interface AuditQuery {
  limit?: number;
  /** ISO time: entries at or after it. */
  since?: string;
  action?: string;
}

/** Newest first (uuidv7 ids sort by time). */
export async function auditEntries(db: Kysely<Database>, q: AuditQuery = {}): Promise<AuditEntry[]> {
  let sel = db
    .selectFrom('audit')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(q.limit ?? 200);
  if (q.since) sel = sel.where('at', '>=', q.since);
  if (q.action) sel = sel.where('action', '=', q.action);
  const rows = await sel.execute();
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}

/** CSV with one column per field; details stay JSON in one cell (quoted by Papa, so commas are safe). */
export function auditCsv(entries: readonly AuditEntry[]): string {
  return `${Papa.unparse(
    entries.map((e) => ({ id: e.id, at: e.at, actor: e.actor, action: e.action, details: JSON.stringify(e.details) })),
    { columns: ['id', 'at', 'actor', 'action', 'details'], newline: '\n' },
  )}\n`;
}
