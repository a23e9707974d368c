import { describe, expect, it } from 'vitest';
import { toVector } from '../../model/contract/index.ts';
import { kishEffectiveN } from '../../model/drift/stats.ts';
import { buildReference, catalogueSongs, fakeModel, rng } from '../testing/fixtures.ts';
import { deviceWeights, SampleCounter, sampleOf, songBins, type WindowSong } from './window-songs.ts';

const songs = catalogueSongs().slice(0, 400);
const ref = buildReference(songs.map((s) => s.features));

function windowSongs(seed: number): WindowSong[] {
  const r = rng(seed);
  return songs.map((s) => {
    const v = toVector({ ...s.features, tempo: s.features.tempo * (0.8 + 0.4 * r()) });
    // Device a brings most songs, so it is weighted down.
    const device = r() < 0.7 ? 'a' : r() < 0.5 ? 'b' : 'c';
    return { key: s.id, device, days: [], bins: JSON.parse(songBins(ref, v, fakeModel(v))) as number[] };
  });
}

describe('window sample', () => {
  it('weights per device exactly as summing each song with its device weight', () => {
    const list = windowSongs(3);
    const s = sampleOf(ref, list, 0.5);
    const perDevice: Record<string, number> = {};
    for (const x of list) perDevice[x.device] = (perDevice[x.device] ?? 0) + 1;
    const w = deviceWeights(perDevice, 0.5);
    expect(w.a).toBeLessThan(1);
    const nf = ref.features.length;
    const features = ref.features.map((f) => new Array<number>(f.histogram.counts.length).fill(0));
    const top1 = new Array<number>(s.top1.length).fill(0);
    const entropy = new Array<number>(s.entropy.length).fill(0);
    const add = (h: number[], b: number, wt: number) => {
      h[b] = (h[b] as number) + wt;
    };
    for (const x of list) {
      const wt = w[x.device] as number;
      for (let f = 0; f < nf; f++) add(features[f] as number[], x.bins[f] as number, wt);
      add(top1, x.bins[nf] as number, wt);
      add(entropy, x.bins[nf + 1] as number, wt);
    }
    const close = (got: readonly number[], want: readonly number[]) => {
      for (let b = 0; b < want.length; b++) expect(got[b]).toBeCloseTo(want[b] as number, 9);
    };
    s.features.forEach((h, f) => {
      close(h, features[f] as number[]);
    });
    close(s.top1, top1);
    close(s.entropy, entropy);
    expect(s.effectiveN).toBeCloseTo(kishEffectiveN(list.map((x) => w[x.device] as number)), 9);
    expect(s.songs).toBe(list.length);
    expect(s.devices).toEqual(perDevice);
  });

  it('reads stored bins in place the same as parsed ones, in any order', () => {
    const list = windowSongs(5);
    const a = new SampleCounter(ref);
    const b = new SampleCounter(ref);
    for (const x of list) a.add(x.device, x.bins);
    for (const x of [...list].reverse()) b.addStored(x.device, JSON.stringify(x.bins));
    expect(b.sample(0.5)).toEqual(a.sample(0.5));
  });
});
