/**
 * The shadow candidate: a second model version the server asks the device to
 * try. It passes the same file check and warm-up check as the served model,
 * then runs after every prediction (after the served result is on its way,
 * so the UI never waits for it) and its outputs go back for the shadow log.
 */
import type { Manifest } from '../../../../model/contract/manifest.ts';
import type { Backend } from '../../../../model/contract/prediction-log.ts';
import type { DenseModel, DenseWeights } from '../../../../model/runtime/dense-model.ts';
import { warmUpCheck } from '../../../../model/runtime/warm-up-check.ts';
import type { Backends } from './backends.ts';
import { EngineError, errorMessage, type Post } from './engine-error.ts';
import { parseVerifiedModel } from './model-loading.ts';
import { BATCH_CHUNK_ROWS, type WorkerRequest } from './protocol.ts';

export interface ShadowCandidate {
  readonly manifest: Manifest;
  readonly weights: DenseWeights;
  /** The candidate placed on each backend it has run on, each checked there. */
  readonly models: Map<Backend, DenseModel>;
}

export type Shadow = ReturnType<typeof createShadow>;

export function createShadow(backends: Backends, now: () => number) {
  let current: ShadowCandidate | null = null;

  /** Creates the shadow model on a backend (once) and runs the warm-up check on it there. */
  async function modelOn(sh: ShadowCandidate, backend: Backend): Promise<DenseModel> {
    const existing = sh.models.get(backend);
    if (existing) return existing;
    const model = await backends.place(backend, sh.weights);
    const check = await warmUpCheck(model, sh.manifest.parity);
    if (!check.ok) {
      model.dispose();
      throw new EngineError(check.code, check.details);
    }
    sh.models.set(backend, model);
    return model;
  }

  return {
    /** The candidate now shadowing (null: none). */
    current: (): ShadowCandidate | null => current,

    /** Runs the candidate on the rows of a prediction just answered, on the same backend; posts its outputs. */
    async run(
      sh: ShadowCandidate,
      req: Extract<WorkerRequest, { type: 'predict' }>,
      backend: Backend,
      post: Post,
    ): Promise<void> {
      const width = sh.weights.inputSize;
      const out = new Float32Array(req.rows * sh.weights.outputSize);
      let compute = 0;
      try {
        for (let start = 0; start < req.rows; start += BATCH_CHUNK_ROWS) {
          const n = Math.min(BATCH_CHUNK_ROWS, req.rows - start);
          const y = await backends.exclusive(async () => {
            const model = await modelOn(sh, backend);
            await backends.activate(backend);
            const c0 = now();
            const x = req.inputs.subarray(start * width, (start + n) * width);
            const r = backend === 'webgpu' ? await model.predict(x, n) : model.predictSync(x, n);
            compute += now() - c0;
            return r;
          });
          out.set(y, start * sh.weights.outputSize);
        }
        post(
          {
            type: 'shadow',
            id: req.id,
            modelVersion: sh.manifest.version,
            outputs: out,
            latencyMs: compute / req.rows,
          },
          [out.buffer],
        );
      } catch (err) {
        const code = err instanceof EngineError ? err.code : 'internal';
        post({
          type: 'shadow',
          id: req.id,
          modelVersion: sh.manifest.version,
          outputs: null,
          latencyMs: 0,
          error: code,
        });
      }
    },

    /** Replaces the candidate (`null` stops shadowing); a new one is checked on `backend()` before it is kept. */
    async load(
      req: Extract<WorkerRequest, { type: 'shadow-load' }>,
      backend: () => Backend,
      post: Post,
    ): Promise<void> {
      await backends.exclusive(async () => {
        for (const m of current?.models.values() ?? []) m.dispose();
        current = null;
      });
      if (!req.model) {
        post({ type: 'shadow-ready', id: req.id, modelVersion: null });
        return;
      }
      const loaded = await parseVerifiedModel(req.model);
      if (!loaded.ok) {
        post(errorMessage(req.id, loaded.code, loaded.details));
        return;
      }
      const candidate: ShadowCandidate = { ...loaded.value, models: new Map<Backend, DenseModel>() };
      try {
        // Checked now on the single-row backend, so a broken candidate is refused before any prediction.
        const b = backend();
        await backends.exclusive(() => modelOn(candidate, b));
      } catch (err) {
        const code = err instanceof EngineError ? err.code : 'model-load-failed';
        post(errorMessage(req.id, code, err instanceof EngineError ? err.details : { reason: String(err) }));
        return;
      }
      current = candidate;
      post({ type: 'shadow-ready', id: req.id, modelVersion: candidate.manifest.version });
    },
  };
}
