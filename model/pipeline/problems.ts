/**
 * Problems found in input files, as values with contract error codes, and the
 * one function that turns them into `file:row:column: problem` lines.
 */
import { describeError, type ErrorCode } from '../contract/index.ts';

export interface Problem {
  readonly file: string;
  /** CSV: the line number (the header is line 1). Parquet: the 1-based record number. Absent for file-level problems. */
  readonly row?: number;
  readonly column?: string;
  readonly code: ErrorCode;
  /** What exactly is wrong, e.g. the offending value. */
  readonly detail?: string;
}

export function formatProblem(p: Problem): string {
  const where = [p.file, p.row ?? '', p.column ?? ''].filter((s) => s !== '').join(':');
  const detail = p.detail ? ` (${p.detail})` : '';
  return `${where}: ${p.code}: ${describeError(p.code)}${detail}`;
}

/** A run-stopping failure of the pipeline: expected, carries problems, printed without a stack trace. */
export class PipelineError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly problems: readonly Problem[] = [],
  ) {
    super(message);
    this.name = 'PipelineError';
  }
}
