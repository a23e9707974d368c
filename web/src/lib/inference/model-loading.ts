/**
 * Loading a model into the engine: fetch the bundled model's manifest and
 * files (or take bytes handed over by the model updater), check them against
 * the manifest with the one `verifyModelPackage`, and parse the weights.
 */
import { fail, ok, type Result } from '../../../../model/contract/errors.ts';
import { type Manifest, ManifestSchema } from '../../../../model/contract/manifest.ts';
import { type DenseWeights, parseModelFiles } from '../../../../model/runtime/dense-model.ts';
import { verifyModelPackage } from '../../../../model/signing/verify-model-package.ts';
import { EngineError } from './engine-error.ts';
import type { ModelBytes } from './protocol.ts';

export interface LoadedModel {
  readonly manifest: Manifest;
  readonly weights: DenseWeights;
}

type Fetch = (url: string) => Promise<Response>;

async function fetchBytes(fetch: Fetch, url: string): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new EngineError('model-load-failed', { url, reason: String(err) });
  }
  if (!res.ok) throw new EngineError('model-load-failed', { url, status: res.status });
  return res.arrayBuffer();
}

/** Checks the files against the manifest (`verifyModelPackage`) and parses the weights. */
export async function parseVerifiedModel(model: ModelBytes): Promise<Result<LoadedModel>> {
  const parsed = ManifestSchema.safeParse(model.manifest);
  if (!parsed.success) return fail('manifest-invalid', { issues: parsed.error.issues.slice(0, 5) });
  const manifest = parsed.data;
  const checked = await verifyModelPackage(manifest, model.files);
  if (!checked.ok) return checked;
  // Only files the manifest lists (and so were just verified) are read.
  const bytes = (path: string) => {
    const raw = manifest.files.some((f) => f.path === path) ? model.files[path] : undefined;
    return raw instanceof Uint8Array ? raw.slice().buffer : raw;
  };
  if (!bytes('model.json') || !bytes('weights.bin'))
    return fail('manifest-invalid', { reason: 'manifest lacks model.json/weights.bin' });
  // trees.bin is read only when the manifest lists it (a model with boosted trees).
  const w = parseModelFiles({
    'model.json': bytes('model.json'),
    'weights.bin': bytes('weights.bin'),
    'trees.bin': bytes('trees.bin'),
  });
  if (!w.ok) return w;
  return ok({ manifest, weights: w.value });
}

/** Fetches manifest + files (the bundled model), then as `parseVerifiedModel`. */
export async function loadVerifiedModel(fetch: Fetch, baseUrl: string): Promise<Result<LoadedModel>> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  try {
    const manifestBytes = await fetchBytes(fetch, `${base}manifest.json`);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(manifestBytes));
    } catch {
      return fail('manifest-invalid', { reason: 'not JSON' });
    }
    const parsed = ManifestSchema.safeParse(json);
    if (!parsed.success) return fail('manifest-invalid', { issues: parsed.error.issues.slice(0, 5) });
    const files: Record<string, ArrayBuffer> = {};
    await Promise.all(
      parsed.data.files.map(async (f) => {
        files[f.path] = await fetchBytes(fetch, `${base}${f.path}`);
      }),
    );
    return await parseVerifiedModel({ manifest: parsed.data, files });
  } catch (err) {
    if (err instanceof EngineError) return fail(err.code, err.details);
    return fail('model-load-failed', { reason: String(err) });
  }
}
