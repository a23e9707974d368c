/**
 * Picks the tfjs backend for training in Node: `wasm` (several times faster
 * than `cpu` here, see test/bench/README.md; needs no wasm path in Node) or
 * `cpu` for comparisons.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

export type TrainingBackend = 'wasm' | 'cpu';

export async function useBackend(name: TrainingBackend): Promise<void> {
  if (tf.getBackend() === name) return;
  const okSet = await tf.setBackend(name);
  if (!okSet) throw new Error(`tfjs backend ${name} could not be initialised`);
  await tf.ready();
}
