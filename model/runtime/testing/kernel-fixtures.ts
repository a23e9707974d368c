/** What the dense-kernel tests share: the shipped default model, random layers and song-like inputs. */
import { readFileSync } from 'node:fs';
import { type Manifest, ManifestSchema } from '../../contract/manifest.ts';
import { type DenseLayerWeights, type DenseWeights, parseModelFiles } from '../dense-model.ts';

const dir = new URL('../../../public/models/default/', import.meta.url);

/**
 * The default model the app ships, parsed as the worker parses it (`model`, boosted trees included where it has
 * them), its Dense stack alone (`weights`: what the kernels run; the trees run beside them) and its manifest.
 */
export function shippedModel(): { weights: DenseWeights; model: DenseWeights; manifest: Manifest } {
  const manifest = ManifestSchema.parse(JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')));
  const parsed = parseModelFiles(
    Object.fromEntries(manifest.files.map((f) => [f.path, new Uint8Array(readFileSync(new URL(f.path, dir)))])),
  );
  if (!parsed.ok) throw new Error(parsed.message);
  const { trees: _trees, ...stack } = parsed.value;
  return { weights: stack, model: parsed.value, manifest };
}

export function randomLayer(
  rand: () => number,
  inputs: number,
  units: number,
  activation: DenseLayerWeights['activation'],
): DenseLayerWeights {
  return {
    inputs,
    units,
    activation,
    kernel: Float32Array.from({ length: inputs * units }, () => rand() - 0.5),
    bias: Float32Array.from({ length: units }, () => rand() - 0.5),
  };
}

/**
 * A small stack that exercises what the shipped model does not: widths that are not multiples of 8, a linear
 * layer between relus, and a sigmoid output; 13 inputs, 5 outputs.
 */
export function mixedStack(rand: () => number): DenseWeights {
  const layers = [
    randomLayer(rand, 13, 9, 'relu'),
    randomLayer(rand, 9, 7, 'linear'),
    randomLayer(rand, 7, 11, 'relu'),
    randomLayer(rand, 11, 5, 'sigmoid'),
  ];
  return { layers, inputSize: 13, outputSize: 5 };
}

/** Rows of raw features at their real scales (duration in ms, tempo in BPM, loudness in dB). */
export function songRows(rand: () => number, rows: number): Float32Array {
  return Float32Array.from({ length: rows * 13 }, (_, i) => {
    const f = i % 13;
    return f === 1 ? 120_000 + rand() * 200_000 : f === 12 ? 60 + rand() * 120 : f === 5 ? -20 + rand() * 18 : rand();
  });
}
