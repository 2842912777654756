import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { OperatorMetrics } from './metrics.js';

/**
 * Two tiny plain-HTTP listeners: /metrics (Prometheus text) and /healthz + /readyz. Kept apart so that a
 * NetworkPolicy can expose metrics without exposing probes, as controller-runtime does.
 * A check returns undefined when fine, or a short reason that /readyz prints.
 */
export type Check = () => string | undefined;

export interface Endpoint {
  host: string;
  port: number;
}

export function parseBindAddress(text: string): Endpoint {
  const match = /^(?:(\[[^\]]+\]|[^:]*):)?(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`bind address must look like ':8080' or '127.0.0.1:8080', got '${text}'`);
  const port = Number(match[2]);
  if (port > 65535) throw new Error(`port out of range in '${text}'`);
  const host = (match[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { host, port };
}

function listen(server: Server, endpoint: Endpoint): Promise<Endpoint> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint.port, endpoint.host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({ host: address.address, port: address.port });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export class MetricsServer {
  private readonly server: Server;

  constructor(
    private readonly metrics: OperatorMetrics,
    private readonly logger: Logger,
  ) {
    this.server = createServer((request, response) => {
      if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
        response.writeHead(404).end('not found\n');
        return;
      }
      this.metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'Content-Type': this.metrics.registry.contentType }).end(text),
        (error: unknown) => {
          this.logger.error(
            { err: error instanceof Error ? error.message : String(error) },
            'metrics failed',
          );
          response.writeHead(500).end('metrics failed\n');
        },
      );
    });
  }

  listen(endpoint: Endpoint): Promise<Endpoint> {
    return listen(this.server, endpoint);
  }

  close(): Promise<void> {
    return close(this.server);
  }
}

export class HealthServer {
  private readonly server: Server;
  private readonly liveness = new Map<string, Check>();
  private readonly readiness = new Map<string, Check>();

  constructor() {
    this.server = createServer((request, response) => {
      const path = request.url?.split('?')[0];
      const checks = path === '/healthz' ? this.liveness : path === '/readyz' ? this.readiness : undefined;
      if (request.method !== 'GET' || !checks) {
        response.writeHead(404).end('not found\n');
        return;
      }
      const failures: string[] = [];
      for (const [name, check] of checks) {
        let problem: string | undefined;
        try {
          problem = check();
        } catch (error) {
          problem = error instanceof Error ? error.message : String(error);
        }
        if (problem !== undefined) failures.push(`${name}: ${problem}`);
      }
      response
        .writeHead(failures.length === 0 ? 200 : 503, { 'Content-Type': 'text/plain' })
        .end(failures.length === 0 ? 'ok\n' : `${failures.join('\n')}\n`);
    });
  }

  addLivenessCheck(name: string, check: Check): void {
    this.liveness.set(name, check);
  }

  addReadinessCheck(name: string, check: Check): void {
    this.readiness.set(name, check);
  }

  listen(endpoint: Endpoint): Promise<Endpoint> {
    return listen(this.server, endpoint);
  }

  close(): Promise<void> {
    return close(this.server);
  }
}
