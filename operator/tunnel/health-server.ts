import { createServer, type Server } from 'node:http';
import type { Endpoint } from '../runtime/http-servers.js';
import type { TunnelReadiness } from './monitoring-tunnel.js';

/**
 * /healthz answers while the process runs; /readyz answers 200 only while the tunnel can serve (SSH up and
 * an endpoint known), with the details as JSON either way, so `kubectl describe pod` shows why it is not.
 */
export async function startHealthServer(bind: Endpoint, readiness: () => TunnelReadiness): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const state = readiness();
      response
        .writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(state)}\n`);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
