import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The console listens on 127.0.0.1 only, and acts with the user's own kubeconfig identity, so anything that
 * reaches it acts as the user. Three guards keep that to the user's own browser tab:
 * - a random token, printed once in the URL (as Jupyter does), traded for an HttpOnly SameSite=Strict cookie:
 *   other local users and other sites' pages cannot make a request that carries it;
 * - the Host header must name the loopback listener, so a DNS-rebinding page cannot talk to it;
 * - writes must carry the header x-hpcbench-console: 1, which no cross-site form can send, and which makes
 *   any other page's fetch ask a CORS preflight that the console never answers.
 */

/**
 * The session cookie's name carries the port: cookies are per host, not per port, so two consoles on one
 * machine (two kubeconfigs, say) would otherwise overwrite each other's session.
 */
export function cookieName(port: number): string {
  return `hpcbench_console_${port}`;
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function cookieOf(header: string | undefined, port: number): string | undefined {
  const name = cookieName(port);
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export function sessionCookie(token: string, port: number): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/** The Host header a request to this listener may carry: 127.0.0.1:PORT or localhost:PORT. */
export function allowedHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}
