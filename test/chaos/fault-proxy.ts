/**
 * A fault-injecting HTTP proxy on loopback for chaos tests: it drops a share
 * of requests before they reach the server, drops a share of responses after
 * the server has acted on the request (the client sees a reset, the server
 * has stored the data: the case idempotency exists for), and delays others.
 * Seeded, so a failing run can be replayed.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mulberry32 } from '../../model/runtime/prng.ts';

export interface FaultOptions {
  /** Share of requests never forwarded (connection reset). */
  readonly dropRequest: number;
  /** Share of responses thrown away after the upstream answered (connection reset). */
  readonly dropResponse: number;
  /** Share of the remaining requests delayed by up to maxDelayMs. */
  readonly delay: number;
  readonly maxDelayMs: number;
  readonly seed: number;
}

export interface FaultCounts {
  forwarded: number;
  droppedRequests: number;
  droppedResponses: number;
  delayed: number;
  upstreamErrors: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly counts: FaultCounts;
  /** Points the proxy at another upstream port (e.g. after a server restart). */
  setUpstream(port: number): void;
  /** Faults on (default) or off: off, it forwards everything (setting up clients before the chaos starts). */
  setFaults(enabled: boolean): void;
  close(): Promise<void>;
}

/** Seeded, so a fault pattern is reproducible. */
export const seededRandom = mulberry32;

export async function startFaultProxy(upstreamPort: number, options: FaultOptions): Promise<FaultProxy> {
  const random = seededRandom(options.seed);
  const counts: FaultCounts = { forwarded: 0, droppedRequests: 0, droppedResponses: 0, delayed: 0, upstreamErrors: 0 };
  let upstream = upstreamPort;
  let faults = true;

  const server: Server = createServer((req, res) => {
    const roll = faults ? random() : 1;
    if (roll < options.dropRequest) {
      counts.droppedRequests += 1;
      req.socket.destroy();
      return;
    }
    const dropResponse = faults && random() < options.dropResponse;
    const delayMs = faults && random() < options.delay ? Math.floor(random() * options.maxDelayMs) : 0;
    if (delayMs > 0) counts.delayed += 1;

    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const up = request(
          { host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers },
          (upRes) => {
            const body: Buffer[] = [];
            upRes.on('data', (c: Buffer) => body.push(c));
            upRes.on('end', () => {
              if (dropResponse) {
                counts.droppedResponses += 1;
                res.socket?.destroy();
                return;
              }
              counts.forwarded += 1;
              res.writeHead(upRes.statusCode ?? 502, upRes.headers);
              res.end(Buffer.concat(body));
            });
          },
        );
        up.on('error', () => {
          // Upstream down (killed): the client sees a reset, as it would in the field.
          counts.upstreamErrors += 1;
          res.socket?.destroy();
        });
        up.end(Buffer.concat(chunks));
      }, delayMs);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    setUpstream(p) {
      upstream = p;
    },
    setFaults(enabled) {
      faults = enabled;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
