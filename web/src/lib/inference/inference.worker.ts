/**
 * The inference worker: tfjs lives only here, never in the UI bundle.
 * Backends are imported on demand so a device that never uses WebGPU never
 * downloads it.
 */
import type { Backend } from '../../../../model/contract/prediction-log.ts';
import { createInferenceEngine } from './inference-engine.ts';
import type { WorkerRequest, WorkerResponse } from './protocol.ts';

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<unknown | null> };
}

async function loadBackend(name: Backend, wasmBaseUrl: string): Promise<void> {
  if (name === 'webgpu') {
    const gpu = (self.navigator as GpuNavigator).gpu;
    if (!gpu) throw new Error('WebGPU is not available in this browser');
    if (!(await gpu.requestAdapter())) throw new Error('no WebGPU adapter');
    await import('@tensorflow/tfjs-backend-webgpu');
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // Served from our origin and precached, so the app runs offline. Threads only when cross-origin isolated.
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': `${wasmBaseUrl}tfjs-backend-wasm.wasm`,
      'tfjs-backend-wasm-simd.wasm': `${wasmBaseUrl}tfjs-backend-wasm-simd.wasm`,
      'tfjs-backend-wasm-threaded-simd.wasm': `${wasmBaseUrl}tfjs-backend-wasm-threaded-simd.wasm`,
    });
    if (!self.crossOriginIsolated) {
      const tf = await import('@tensorflow/tfjs-core');
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    }
  } else if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
  } else {
    // The JS kernel is not a tfjs backend; the engine never asks to load it.
    throw new Error(`${name} is not a TensorFlow.js backend`);
  }
}

const engine = createInferenceEngine({
  fetch: (url) => fetch(url),
  loadBackend,
  now: () => performance.now(),
  userAgent: self.navigator.userAgent,
});

const post = (msg: WorkerResponse, transfer: Transferable[] = []) => self.postMessage(msg, { transfer });

self.addEventListener('message', (event: MessageEvent<WorkerRequest>) => {
  void engine.handle(event.data, post);
});
