/**
 * The inference worker: tfjs lives only here, never in the UI bundle.
 * Backends are imported on demand so a device that never uses WebGPU never
 * downloads it.
 */
import denseKernelBytes from 'virtual:dense-kernel';
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
    // Served from our origin (the SIMD binary precached), so the app runs offline.
    wasm.setWasmPaths(wasmBaseUrl);
    // Single-threaded even where the page is cross-origin isolated: tfjs's threaded build starts its pthread
    // workers from the factory's source text, which our minified bundle breaks (they die with "_scriptDir is not
    // defined" and take the worker down). Threads also measured slower for this small model on 2 cores, and our
    // own 'simd' kernel beats this backend single-threaded.
    const tf = await import('@tensorflow/tfjs-core');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  } else if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
  } else {
    // Our own kernels ('simd', 'js') are not tfjs backends; the engine never asks to load them.
    throw new Error(`${name} is not a TensorFlow.js backend`);
  }
}

async function denseKernel(): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(denseKernelBytes);
  } catch (err) {
    throw new Error(`this browser cannot run WebAssembly SIMD (${err instanceof Error ? err.message : String(err)})`);
  }
}

const engine = createInferenceEngine({
  fetch: (url) => fetch(url),
  loadBackend,
  denseKernel,
  now: () => performance.now(),
  userAgent: self.navigator.userAgent,
});

const post = (msg: WorkerResponse, transfer: Transferable[] = []) => self.postMessage(msg, { transfer });

self.addEventListener('message', (event: MessageEvent<WorkerRequest>) => {
  void engine.handle(event.data, post);
});
