/**
 * The real server (`tsx server/main.ts`) as a child process that can be
 * killed — SIGKILL included, as a crash or power cut would — and started
 * again on the same SQLite data directory and port. `server/testing/
 * spawn-server.ts` makes a fresh data dir per start and stops gracefully;
 * the chaos and sync tests need the same store across restarts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ApiClient, apiClient, bearer } from '../../model/client/api-client.ts';
import { ENDPOINTS } from '../../model/contract/index.ts';
import { requireSharedDataFile } from '../../model/shared-data.ts';
import { randomToken } from '../../server/auth/tokens.ts';
import { SERVER_NODE_FLAGS } from '../../server/testing/spawn-server.ts';

export const REPO = resolve(import.meta.dirname, '../..');
export const DEFAULT_MODEL_DIR = join(REPO, 'public/models/default');

/** The bundled default model's version (the one the built app runs and logs). */
export function defaultModelVersion(): string {
  return (JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'manifest.json'), 'utf8')) as { version: string }).version;
}

/** A free loopback port, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => done(port));
    });
  });
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly adminToken: string;
  readonly dataDir: string;
  readonly sqlitePath: string;
  /** How many times it has been started. */
  readonly starts: number;
  output(): string;
  /** Kills it (default SIGKILL: no shutdown code runs) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same data dir and port; resolves once /healthz answers. */
  restart(): Promise<void>;
  /** Authorised admin request. */
  admin(path: string, init?: { method?: string; json?: unknown }): Promise<Response>;
  /** The contract's API client on it with the admin token. */
  readonly api: ApiClient;
  /** Stops it and deletes its data dir. */
  dispose(): Promise<void>;
}

export async function startServerProcess(opts: { env?: Record<string, string> } = {}): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jukebox-sync-server-'));
  const port = await freePort();
  const adminToken = randomToken();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let out = '';
  let starts = 0;

  async function start(): Promise<void> {
    starts++;
    const c = spawn(process.execPath, [...SERVER_NODE_FLAGS, 'server/main.ts'], {
      cwd: REPO,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        DEFAULT_MODEL_DIR,
        // The server would start without a catalogue; these tests need it, so a missing file fails here, clearly.
        CATALOGUE_PATH: requireSharedDataFile('song-catalog.csv'),
        ADMIN_TOKEN: adminToken,
        ALERT_INTERVAL_S: '0',
        // Three devices retrying hard through a faulty proxy must not be throttled into the test's timeout.
        RATE_LIMIT_PER_MINUTE: '100000',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    c.stdout?.on('data', (d) => {
      out += String(d);
    });
    c.stderr?.on('data', (d) => {
      out += String(d);
    });
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (c.exitCode !== null) throw new Error(`server exited early (${c.exitCode}):\n${out.slice(-4000)}`);
      try {
        if ((await fetch(`${url}${ENDPOINTS.healthz.path}`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`server did not start:\n${out.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async function kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  }

  await start();
  return {
    url,
    port,
    adminToken,
    dataDir,
    sqlitePath: join(dataDir, 'jukebox.sqlite'),
    get starts() {
      return starts;
    },
    output: () => out,
    kill,
    restart: start,
    admin: (path, init = {}) =>
      fetch(`${url}${path}`, {
        method: init.method ?? (init.json !== undefined ? 'POST' : 'GET'),
        headers: {
          authorization: bearer(adminToken),
          ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      }),
    api: apiClient(url, adminToken),
    async dispose() {
      // Its data goes with it, so there is nothing to shut down gracefully (and open keep-alive sockets from a
      // browser would hold a graceful close).
      await kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh one-time enrollment code from the server's admin API: for a new device, or with `deviceId` a
 * re-enrollment code for that enrolled device.
 */
export async function enrollmentCode(server: ServerProcess, deviceId?: string): Promise<string> {
  const r = await server.api.call('createEnrollmentCode', deviceId ? { json: { deviceId } } : {});
  if (!r.ok) throw new Error(`enrollment code: ${r.status} ${r.code}: ${r.message}`);
  return r.value.code;
}
