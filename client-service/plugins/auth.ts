import { createHash, timingSafeEqual } from 'node:crypto';
import { definePlugin } from './define-plugin.js';

/** Routes anyone may call: the operator probes /health before it has anything to authenticate for. */
const PUBLIC_ROUTES = new Set(['/health']);

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Compares hashes so the comparison takes the same time whatever the length of the guess. */
function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

function bearer(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * Every route but /health needs `Authorization: Bearer <token>`. The metrics token (the one Prometheus
 * scrapes with) opens GET /metrics and nothing else.
 */
export const authPlugin = definePlugin<{ token: string; metricsToken: string | null }>(
  'auth',
  [],
  async (app, { token, metricsToken }) => {
    const tokenDigest = digest(token);
    const metricsDigest = metricsToken === null ? null : digest(metricsToken);
    app.addHook('onRequest', async (request, reply) => {
      const route = request.routeOptions.url;
      if (route !== undefined && PUBLIC_ROUTES.has(route)) return;
      const given = bearer(request.headers.authorization);
      if (given !== null && sameSecret(given, tokenDigest)) return;
      if (
        given !== null &&
        metricsDigest !== null &&
        route === '/metrics' &&
        request.method === 'GET' &&
        sameSecret(given, metricsDigest)
      ) {
        return;
      }
      reply.header('www-authenticate', 'Bearer');
      await reply.code(401).send({
        error: 'Unauthorized',
        message: given === null ? 'missing bearer token' : 'wrong bearer token',
      });
    });
  },
);
