/**
 * Starts the real server (`tsx server/main.ts`) as a child process on a
 * loopback port with a fixture default model, for benchmarks and the
 * dashboard screenshots. Returns its URL, admin token and a stopper.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENDPOINTS } from '../../model/contract/index.ts';
import { randomToken } from '../auth/tokens.ts';
import type { FixtureModel } from './fixtures.ts';

/**
 * How `npm start` runs node: a 64 MB young generation (V8's default is 16) takes a 500-log batch's garbage in a
 * third as many collections, about 40 % less GC time per batch (server/README.md, "Checkpoints off the request
 * path"); the flag only works on the command line.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64', '--import', 'tsx'];

export interface SpawnedServer {
  url: string;
  adminToken: string;
  dataDir: string;
  output: () => string;
  stop(): Promise<void>;
}

export async function spawnServer(opts: {
  port: number;
  model: FixtureModel;
  env?: Record<string, string>;
  /** Extra node flags after SERVER_NODE_FLAGS (so they win), e.g. --cpu-prof. */
  nodeArgs?: string[];
}): Promise<SpawnedServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jukebox-spawned-'));
  const modelDir = join(dataDir, 'default-model');
  mkdirSync(modelDir);
  writeFileSync(join(modelDir, 'manifest.json'), JSON.stringify(opts.model.manifest));
  for (const [p, d] of Object.entries(opts.model.files)) writeFileSync(join(modelDir, p), d);
  const adminToken = randomToken();
  let out = '';
  const child: ChildProcess = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, ...(opts.nodeArgs ?? []), 'server/main.ts'],
    {
      cwd: new URL('../..', import.meta.url).pathname,
      env: {
        ...process.env,
        PORT: String(opts.port),
        HOST: '127.0.0.1',
        DATA_DIR: join(dataDir, 'data'),
        DEFAULT_MODEL_DIR: modelDir,
        ADMIN_TOKEN: adminToken,
        ALERT_INTERVAL_S: '0',
        CATALOGUE_PATH: join(dataDir, 'none.csv'),
        // Fixtures are dated on fixed days; the window of receipt has its own tests (test/security/).
        EVENT_WINDOW_BACK_DAYS: '3650',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  child.stderr?.on('data', (d) => {
    out += String(d);
  });
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`server exited early:\n${out}`);
    }
    try {
      if ((await fetch(`${url}${ENDPOINTS.healthz.path}`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`server did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    adminToken,
    dataDir,
    output: () => out,
    async stop() {
      if (child.exitCode === null) {
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
