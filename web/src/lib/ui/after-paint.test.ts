import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The module keeps its queue between calls: a fresh copy per test.
async function load() {
  vi.resetModules();
  return (await import('./after-paint.ts')).afterPaint;
}

describe('afterPaint', () => {
  let frames: (() => void)[];
  /** A page's visibility, and the listener the module registers on it. */
  let page: { visibilityState: 'visible' | 'hidden'; onChange?: () => void };
  beforeEach(() => {
    vi.useFakeTimers();
    frames = [];
    vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb));
    page = { visibilityState: 'visible' };
    vi.stubGlobal('document', {
      get visibilityState() {
        return page.visibilityState;
      },
      addEventListener: (type: string, l: () => void) => {
        if (type === 'visibilitychange') page.onChange = l;
      },
    });
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('runs after the next frame, in a task of its own, once', async () => {
    const afterPaint = await load();
    const fn = vi.fn();
    afterPaint(fn);
    vi.advanceTimersByTime(0);
    expect(fn).not.toHaveBeenCalled();
    frames.shift()!();
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('shares one frame callback among everything asked for before the paint', async () => {
    const afterPaint = await load();
    const order: string[] = [];
    afterPaint(() => order.push('log'));
    afterPaint(() => order.push('explain'));
    expect(frames).toHaveLength(1);
    frames.shift()!();
    vi.advanceTimersByTime(0);
    expect(order).toEqual(['log', 'explain']);
    // The next request waits for the next frame.
    afterPaint(() => order.push('labels'));
    expect(frames).toHaveLength(1);
    frames.shift()!();
    vi.advanceTimersByTime(0);
    expect(order).toEqual(['log', 'explain', 'labels']);
  });

  it('runs on a timer in a hidden tab, which gets no frames', async () => {
    const afterPaint = await load();
    page.visibilityState = 'hidden';
    const fn = vi.fn();
    afterPaint(fn, 50);
    expect(frames).toHaveLength(0);
    vi.advanceTimersByTime(49);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('runs at once when the page is hidden while the work waits for its frame, and not again', async () => {
    const afterPaint = await load();
    const fn = vi.fn();
    afterPaint(fn);
    expect(frames).toHaveLength(1);
    page.visibilityState = 'hidden';
    page.onChange!();
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(1);
    // The frame that comes when the page shows again runs nothing twice; new work waits for a new frame.
    frames.shift()!();
    vi.advanceTimersByTime(10);
    expect(fn).toHaveBeenCalledTimes(1);
    page.visibilityState = 'visible';
    const next = vi.fn();
    afterPaint(next);
    expect(frames).toHaveLength(1);
  });

  it('arms no timer per call on a visible page (timers cost the click that schedules them)', async () => {
    const afterPaint = await load();
    const timers = vi.spyOn(globalThis, 'setTimeout');
    afterPaint(() => undefined);
    expect(timers).not.toHaveBeenCalled();
    frames.shift()!();
    expect(timers).toHaveBeenCalledTimes(1);
  });

  it('can be cancelled, without touching the other waiting work', async () => {
    const afterPaint = await load();
    const cancelled = vi.fn();
    const kept = vi.fn();
    const cancel = afterPaint(cancelled);
    afterPaint(kept);
    cancel();
    frames.shift()!();
    vi.advanceTimersByTime(0);
    expect(cancelled).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledTimes(1);
  });
});
