import { describe, expect, it } from 'vitest';
import { fromVector } from '../../../../model/contract/features.ts';
import { PredictionLogSchema } from '../../../../model/contract/prediction-log.ts';
import { MEANS } from '../../../../model/testing/tiny-model.ts';
import { buildLog } from '../storage/prediction-recorder.ts';
import { attachShadow } from './shadow-log.ts';

const inputs = fromVector(MEANS.map((v, i) => (i === 0 || i === 6 ? 1 : i === 4 ? 5 : v)));
const ctx = { deviceId: 'dev_t', modelVersion: 'vactive00001', backend: 'cpu' as const, latencyMs: 0.3 };
const logs = [0.1, 0.2].map((p) => buildLog(ctx, { inputs, outputs: new Float32Array(72).fill(p), source: 'form' }));

describe('attachShadow', () => {
  it('puts each row of the shadow outputs into its log, valid against the contract', async () => {
    const outputs = new Float32Array(144);
    outputs.fill(0.3, 0, 72);
    outputs.fill(0.7, 72);
    const out = await attachShadow(logs, Promise.resolve({ modelVersion: 'vshadow00001', outputs, latencyMs: 0.5 }));
    expect(out.map((l) => l.shadow?.outputs[0])).toEqual([expect.closeTo(0.3, 6), expect.closeTo(0.7, 6)]);
    for (const l of out) expect(PredictionLogSchema.safeParse(l).success).toBe(true);
    expect(out[0]!.outputs[0]).toBeCloseTo(0.1, 6);
  });

  it('logs without shadow when there is none, it failed, or it takes too long', async () => {
    expect((await attachShadow(logs, undefined))[0]!.shadow).toBeUndefined();
    expect((await attachShadow(logs, Promise.resolve(null)))[0]!.shadow).toBeUndefined();
    const never = new Promise<null>(() => {});
    expect((await attachShadow(logs, never, 10))[1]!.shadow).toBeUndefined();
  });
});
