import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';

// A stand-in server with a fixed answer per path: the point is which paths /health asks, not the engine.
async function serverAnswering(paths: Record<string, number>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    res.statusCode = paths[req.url ?? ''] ?? 404;
    res.end(req.url === '/api/version' && res.statusCode === 200 ? '{"version":"0.24.0"}' : '{"data":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function health(paths: Record<string, number>): Promise<unknown> {
  const { server, url } = await serverAnswering(paths);
  const outputDir = mkdtempSync(join(tmpdir(), 'health-'));
  const app = await buildApp({
    host: '127.0.0.1',
    port: 0,
    ollamaUrl: url,
    pushIntervalSeconds: 5,
    outputDir,
    benchmark: 'unit',
    logLevel: 'silent',
    token: 'unit-test-token-0123456789',
    metricsToken: 'metrics-token-0123456789',
  });
  closers.push(
    () => app.close(),
    () => new Promise((resolve) => server.close(resolve)),
    async () => rmSync(outputDir, { recursive: true, force: true }),
  );
  return (await app.inject({ method: 'GET', url: '/health' })).json();
}

describe('/health', () => {
  it("names Ollama's version when /api/version answers", async () => {
    expect(await health({ '/api/version': 200 })).toMatchObject({
      status: 'ok',
      ollama: { reachable: true, version: '0.24.0' },
    });
  });

  it('counts an OpenAI-compatible server (no /api/version) as reachable through /v1/models', async () => {
    expect(await health({ '/v1/models': 200 })).toMatchObject({
      status: 'ok',
      ollama: { reachable: true, version: null, error: null },
    });
  });

  it('is degraded when neither answers', async () => {
    expect(await health({ '/v1/models': 503 })).toMatchObject({
      status: 'degraded',
      ollama: { reachable: false },
    });
  });
});
