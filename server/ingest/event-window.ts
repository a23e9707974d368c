/**
 * Event times a device reports must lie within a window of when the server received them (configurable:
 * EVENT_WINDOW_BACK_DAYS / EVENT_WINDOW_AHEAD_DAYS). A log from year 9999 would otherwise open a drift day in the
 * far future and pin the device's "last prediction" there; one from 0000 would sit before every window.
 */
import {
  type EventWindow,
  type ItemError,
  inEventWindow,
  type Outcome,
  type PredictionLog,
} from '../../model/contract/index.ts';

function outside(index: number, id: string, field: string, value: string, w: EventWindow): ItemError {
  return {
    index,
    id,
    code: 'event-time-out-of-window',
    message: `${field} ${value} is not within ${w.backDays} days before and ${w.aheadDays} days after the server's receipt`,
    path: [field],
  };
}

export function logsOutsideWindow(logs: readonly PredictionLog[], receivedAtMs: number, w: EventWindow): ItemError[] {
  const out: ItemError[] = [];
  for (let i = 0; i < logs.length; i++) {
    const l = logs[i] as PredictionLog;
    if (!inEventWindow(l.createdAt, receivedAtMs, w)) out.push(outside(i, l.id, 'createdAt', l.createdAt, w));
  }
  return out;
}

/** `recordedAt` within the window; the chart `date` may be old but not after the window's end. */
export function outcomesOutsideWindow(outcomes: readonly Outcome[], receivedAtMs: number, w: EventWindow): ItemError[] {
  const out: ItemError[] = [];
  const latestDay = new Date(receivedAtMs + w.aheadDays * 86_400_000).toISOString().slice(0, 10);
  outcomes.forEach((o, i) => {
    if (!inEventWindow(o.recordedAt, receivedAtMs, w)) out.push(outside(i, o.id, 'recordedAt', o.recordedAt, w));
    else if (o.date > latestDay) out.push(outside(i, o.id, 'date', o.date, w));
  });
  return out;
}
