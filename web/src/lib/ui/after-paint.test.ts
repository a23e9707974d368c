import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The module keeps its queue between calls: a fresh copy per test.
async function load() {
  vi.resetModules();
  return (await import('./after-paint.ts')).afterPaint;
}

describe('afterPaint', () => {
  let frames: (() => void)[];
  beforeEach(() => {
    vi.useFakeTimers();
    frames = [];
    vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb));
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

  it('still runs when no frame comes (hidden tab)', async () => {
    const afterPaint = await load();
    const fn = vi.fn();
    afterPaint(fn, 50);
    vi.advanceTimersByTime(49);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    // The late frame does not run anything again.
    frames.shift()!();
    vi.advanceTimersByTime(10);
    expect(fn).toHaveBeenCalledTimes(1);
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
