import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningConsole, startConsole } from './server.js';

/**
 * The console's guards over real HTTP (Fastify on 127.0.0.1), with a kubeconfig whose apiserver is not there:
 * what reaches the apiserver is the browser test's business (test/kubectl-hpcbench/console-browser.test.ts).
 */

const TOKEN = 'test-token-0123456789abcdef';

function unreachableKube() {
  const config = new k8s.KubeConfig();
  config.loadFromOptions({
    clusters: [{ name: 'nowhere', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'someone', token: 'not-a-real-token' }],
    contexts: [{ name: 'nowhere', cluster: 'nowhere', user: 'someone', namespace: 'team-a' }],
    currentContext: 'nowhere',
  });
  return {
    config,
    namespace: 'team-a',
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    core: config.makeApiClient(k8s.CoreV1Api),
  };
}

let running: RunningConsole;
let base = '';
let cookie = '';

beforeAll(async () => {
  running = await startConsole({
    kube: unreachableKube(),
    port: 0,
    token: TOKEN,
    appJs: 'console.log("app")',
    namespace: 'team-a',
  });
  base = `http://127.0.0.1:${running.port}`;
  cookie = `hpcbench_console_${running.port}=${TOKEN}`;
});
afterAll(async () => {
  await running.close();
});

describe('the console server', () => {
  it('prints a URL on 127.0.0.1 that carries the token', () => {
    expect(running.url).toBe(`${base}/?token=${TOKEN}`);
  });

  it('trades the token in the URL for an HttpOnly SameSite=Strict cookie and sends the page to /', async () => {
    const response = await fetch(running.url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/');
    expect(response.headers.get('set-cookie')).toBe(`${cookie}; HttpOnly; SameSite=Strict; Path=/`);
  });

  it('refuses a wrong token and any request without the cookie, page and API alike', async () => {
    // Another console's cookie (another port on this host) is not this one's.
    expect((await fetch(`${base}/`, { headers: { cookie: `hpcbench_console_1=${TOKEN}` } })).status).toBe(
      401,
    );
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(401);
    expect((await fetch(`${base}/`)).status).toBe(401);
    expect((await fetch(`${base}/api/context`)).status).toBe(401);
    expect(
      (await fetch(`${base}/app.js`, { headers: { cookie: `hpcbench_console_${running.port}=nope` } }))
        .status,
    ).toBe(401);
  });

  it('serves the page with a CSP that allows nothing off the console', async () => {
    const response = await fetch(`${base}/`, { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await response.text();
    expect(html).toContain('<script src="/app.js"></script>');
    expect(html).toContain('<meta name="hpcbench-namespace" content="team-a">');
  });

  it('answers only to a Host naming the loopback listener (no DNS rebinding)', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: running.port,
          path: '/',
          headers: { host: `evil.example:${running.port}`, cookie },
        },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('refuses a write without the console header (a cross-site form cannot send it)', async () => {
    const response = await fetch(`${base}/api/namespaces/team-a/benchmarks`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(403);
  });

  it('names a bad namespace instead of asking the apiserver', async () => {
    const response = await fetch(`${base}/api/namespaces/Not_A_Namespace/benchmarks`, {
      headers: { cookie },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      reason: 'BadRequest',
      message: expect.stringContaining('Not_A_Namespace'),
    });
  });

  it('turns an unreachable apiserver into a 502 refusal that says what it was asking', async () => {
    const response = await fetch(`${base}/api/namespaces/team-a/benchmarks`, { headers: { cookie } });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({
      reason: 'Unreachable',
      message: expect.stringMatching(/^inferencebenchmarks.* ECONNREFUSED/),
    });
  });

  it('serves the CRD schema of spec for the wizard, and the context it acts as', async () => {
    const schema = (await (await fetch(`${base}/api/schema`, { headers: { cookie } })).json()) as {
      spec: { properties: Record<string, unknown>; required: string[] };
    };
    expect(Object.keys(schema.spec.properties)).toEqual(
      expect.arrayContaining(['clusterRef', 'model', 'workload']),
    );
    const context = await (await fetch(`${base}/api/context`, { headers: { cookie } })).json();
    expect(context).toMatchObject({
      namespace: 'team-a',
      context: 'nowhere',
      user: 'someone',
      grafana: false,
    });
  });

  it('says how to get Grafana when it was started without --grafana-namespace', async () => {
    const response = await fetch(`${base}/api/grafana`, {
      method: 'POST',
      headers: { cookie, 'x-hpcbench-console': '1' },
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { message: string }).message).toContain('--grafana-namespace');
  });
});
