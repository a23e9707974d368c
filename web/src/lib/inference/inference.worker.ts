/**
 * The inference worker: tfjs lives only here, never in the UI bundle.
 * Backends are imported on demand so a device that never uses WebGPU never
 * downloads it.
 */
import ownMemoryKernel, { shared as sharedMemoryKernel } from 'virtual:dense-kernel';
import type { Backend } from '../../../../model/contract/prediction-log.ts';
import { MAX_KERNEL_THREADS } from '../../../../model/runtime/dense-kernel-abi.ts';
import type { SpawnKernelThread } from '../../../../model/runtime/dense-simd-threads.ts';
import { createInferenceEngine, type KernelThreads } from './inference-engine.ts';
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
    // defined" and take the worker down). Threads also measured slower for this small model on 2 cores (test/bench/README.md), and our
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

async function denseKernel(memory: 'own' | 'shared'): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(memory === 'own' ? ownMemoryKernel : sharedMemoryKernel);
  } catch (err) {
    const what = memory === 'own' ? 'WebAssembly SIMD' : 'WebAssembly SIMD with threads';
    throw new Error(`this browser cannot run ${what} (${err instanceof Error ? err.message : String(err)})`);
  }
}

const spawnKernelThread: SpawnKernelThread = (init) =>
  new Promise((resolve, reject) => {
    const thread = new Worker(new URL('./kernel-thread.worker.ts', import.meta.url), {
      type: 'module',
      name: `dense-kernel-thread-${init.index}`,
    });
    thread.addEventListener('message', () => resolve({ terminate: () => thread.terminate() }), { once: true });
    thread.addEventListener('error', (e) => {
      thread.terminate();
      reject(new Error(e.message || 'the kernel thread could not start'));
    });
    thread.postMessage(init);
  });

/**
 * Shared memory exists only on a cross-origin-isolated page (the server sends COOP/COEP). Up to four threads:
 * the model is small, and the page and the rest of the device need cores too.
 */
function kernelThreads(): KernelThreads {
  if (!self.crossOriginIsolated) {
    throw new Error('needs a cross-origin-isolated page (COOP/COEP headers) for shared memory');
  }
  const cores = self.navigator.hardwareConcurrency || 1;
  if (cores < 2) throw new Error('this device reports one CPU core');
  return { threads: Math.min(cores, 4, MAX_KERNEL_THREADS), spawn: spawnKernelThread };
}

const engine = createInferenceEngine({
  fetch: (url) => fetch(url),
  loadBackend,
  denseKernel,
  kernelThreads,
  now: () => performance.now(),
  userAgent: self.navigator.userAgent,
});

const post = (msg: WorkerResponse, transfer: Transferable[] = []) => self.postMessage(msg, { transfer });

self.addEventListener('message', (event: MessageEvent<WorkerRequest>) => {
  void engine.handle(event.data, post);
});
