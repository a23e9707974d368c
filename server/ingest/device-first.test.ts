import { describe, expect, it } from 'vitest';
import { DeviceFirst } from './device-first.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DeviceFirst', () => {
  it('holds background steps while a device batch is in flight, and lets them go when it ends', async () => {
    const gate = new DeviceFirst({ maxWaitMs: 10_000 });
    let release!: () => void;
    const batch = gate.device(() => new Promise<string>((r) => (release = () => r('stored'))));
    expect(gate.inFlight).toBe(1);
    let stepped = false;
    const step = gate.turn().then(() => {
      stepped = true;
    });
    await sleep(30);
    expect(stepped).toBe(false);
    release();
    expect(await batch).toBe('stored');
    await step;
    expect(stepped).toBe(true);
    expect(gate.inFlight).toBe(0);
  });

  it('still lets a step go after maxWaitMs when device batches never stop, so an upload always finishes', async () => {
    const gate = new DeviceFirst({ maxWaitMs: 20 });
    const never = gate.device(() => new Promise<void>(() => {}));
    const t = performance.now();
    for (let i = 0; i < 3; i++) await gate.turn();
    const waited = performance.now() - t;
    expect(waited).toBeGreaterThanOrEqual(55);
    expect(waited).toBeLessThan(2000);
    void never;
  });

  it('counts a failed batch out again, and does not hold a step when nothing is in flight', async () => {
    const gate = new DeviceFirst({ maxWaitMs: 10_000 });
    await expect(gate.device(async () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    expect(gate.inFlight).toBe(0);
    const t = performance.now();
    await gate.turn();
    expect(performance.now() - t).toBeLessThan(1000);
  });
});
