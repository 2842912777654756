import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import type { Config } from './config.js';

const TOKEN = 'unit-test-token-0123456789';
const METRICS_TOKEN = 'metrics-only-token-0123456789';
let app: FastifyInstance;
let outputDir: string;

beforeAll(async () => {
  outputDir = mkdtempSync(join(tmpdir(), 'client-service-app-'));
  const config: Config = {
    host: '127.0.0.1',
    port: 0,
    // Port 9 (discard) on loopback: nothing listens, so requests fail fast as connection errors.
    ollamaUrl: 'http://127.0.0.1:9',
    pushIntervalSeconds: 5,
    outputDir,
    benchmark: 'unit',
    logLevel: 'silent',
    token: TOKEN,
    metricsToken: METRICS_TOKEN,
  };
  app = await buildApp(config);
});

afterAll(async () => {
  await app.close();
  rmSync(outputDir, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${TOKEN}` };
const validRun = { id: 'run-1', model: 'm', workload: { clients: 1, requestsPerClient: 1, prompt: 'hi' } };

describe('authentication', () => {
  const protectedRoutes: Array<{ method: 'GET' | 'POST' | 'DELETE'; url: string }> = [
    { method: 'POST', url: '/query' },
    { method: 'POST', url: '/benchmark' },
    { method: 'POST', url: '/runs' },
    { method: 'GET', url: '/runs' },
    { method: 'GET', url: '/runs/x' },
    { method: 'GET', url: '/runs/x/requests' },
    { method: 'DELETE', url: '/runs/x' },
    { method: 'GET', url: '/metrics' },
  ];

  it.each(protectedRoutes)('refuses $method $url without a token with 401', async (route) => {
    const res = await app.inject({ ...route, payload: route.method === 'POST' ? {} : undefined });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json().message).toBe('missing bearer token');
  });

  it.each(protectedRoutes)('refuses $method $url with a wrong token with 401', async (route) => {
    const res = await app.inject({ ...route, headers: { authorization: 'Bearer not-the-token' } });
    expect(res.statusCode).toBe(401);
  });

  it('lets /health through without a token', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'degraded', ollama: { reachable: false } });
  });

  it('accepts the metrics token for GET /metrics and for nothing else', async () => {
    const headers = { authorization: `Bearer ${METRICS_TOKEN}` };
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('ibo_client_service_requests_total');
    expect((await app.inject({ method: 'GET', url: '/runs', headers })).statusCode).toBe(401);
  });
});

/** Sweeps, repeats and SLOs the schema refuses, each naming its field. */
function sweepCases() {
  const run = (workload: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    ...validRun,
    ...extra,
    workload: { ...validRun.workload, ...workload },
  });
  return [
    {
      name: 'a sweep with both levels and a range',
      payload: run({ sweep: { levels: [{ clients: 1 }], range: { from: 1, to: 4, factor: 2 } } }),
      field: 'body.workload.sweep.levels',
    },
    {
      name: 'a sweep with neither levels nor a range',
      payload: run({ sweep: { stopWhenSaturated: true } }),
      field: 'body.workload.sweep.levels',
    },
    {
      name: 'a level with both clients and a rate',
      payload: run({ sweep: { levels: [{ clients: 1, ratePerSecond: 2 }] } }),
      field: 'body.workload.sweep.levels.0.clients',
    },
    {
      name: 'a closed-loop level with an open-loop count',
      payload: run({ sweep: { levels: [{ clients: 2, requests: 10 }] } }),
      field: 'body.workload.sweep.levels.0.requests',
    },
    {
      name: 'a sweep that mixes clients and rates',
      payload: run({ sweep: { levels: [{ clients: 1 }, { ratePerSecond: 2 }] } }),
      field: 'body.workload.sweep.levels',
    },
    {
      name: 'a sweep of 65 levels',
      payload: run({ sweep: { levels: [...Array(65)].map((_, i) => ({ clients: i + 1 })) } }),
      field: 'body.workload.sweep.levels',
    },
    {
      name: 'a range of more than 64 levels',
      payload: run({ sweep: { range: { from: 1, to: 100_000, factor: 1.1 } } }),
      field: 'body.workload.sweep.range',
    },
    {
      name: 'a range that ends below its start',
      payload: run({ sweep: { range: { from: 8, to: 2, factor: 2 } } }),
      field: 'body.workload.sweep.range.to',
    },
    {
      name: 'a sweep with a workload-level rate it would ignore',
      payload: run({ ratePerSecond: 3, sweep: { levels: [{ ratePerSecond: 1 }] } }),
      field: 'body.workload.ratePerSecond',
    },
    {
      name: 'a repeat of 0',
      payload: run({ repeat: 0 }),
      field: 'body.workload.repeat',
    },
    {
      name: 'an SLO without a threshold',
      payload: run({}, { slo: { percentile: 90 } }),
      field: 'body.slo.ttftMs',
    },
    {
      name: 'an SLO with both a percentile and an attainment',
      payload: run({}, { slo: { ttftMs: 100, percentile: 90, attainment: 0.9 } }),
      field: 'body.slo.attainment',
    },
  ].map((c) => ({ ...c, method: 'POST' as const, url: '/runs' }));
}

describe('bad input gets a 400 naming the field', () => {
  const cases: Array<{
    name: string;
    method: 'GET' | 'POST' | 'DELETE';
    url: string;
    payload?: unknown;
    field: string;
  }> = [
    {
      name: 'a query without a prompt',
      method: 'POST',
      url: '/query',
      payload: { model: 'm' },
      field: 'body.prompt',
    },
    {
      name: 'a query with a negative timeout',
      method: 'POST',
      url: '/query',
      payload: { prompt: 'x', model: 'm', requestTimeoutSeconds: -1 },
      field: 'body.requestTimeoutSeconds',
    },
    {
      name: 'a query with no model anywhere',
      method: 'POST',
      url: '/query',
      payload: { prompt: 'x' },
      field: 'body.model',
    },
    {
      name: 'a legacy benchmark with zero clients',
      method: 'POST',
      url: '/benchmark',
      payload: { prompt: 'x', n_clients: 0 },
      field: 'body.n_clients',
    },
    {
      name: 'a run with clients as a string',
      method: 'POST',
      url: '/runs',
      payload: { ...validRun, workload: { ...validRun.workload, clients: 'four' } },
      field: 'body.workload.clients',
    },
    {
      name: 'a run whose id has a slash',
      method: 'POST',
      url: '/runs',
      payload: { ...validRun, id: 'a/b' },
      field: 'body.id',
    },
    {
      name: 'an open-loop run without a rate',
      method: 'POST',
      url: '/runs',
      payload: { ...validRun, workload: { ...validRun.workload, mode: 'open' } },
      field: 'body.workload.ratePerSecond',
    },
    {
      name: 'a run without any prompt',
      method: 'POST',
      url: '/runs',
      payload: { ...validRun, workload: { clients: 1, requestsPerClient: 1 } },
      field: 'body.workload.prompt',
    },
    {
      name: 'an openai run that names an Ollama endpoint',
      method: 'POST',
      url: '/runs',
      payload: { ...validRun, protocol: 'openai', api: 'chat' },
      field: 'body.api',
    },
    {
      name: 'an Ollama run that names an OpenAI endpoint',
      method: 'POST',
      url: '/runs',
      payload: { ...validRun, openaiApi: 'chat' },
      field: 'body.openaiApi',
    },
    {
      name: 'a run with an unknown protocol',
      method: 'POST',
      url: '/runs',
      payload: { ...validRun, protocol: 'grpc' },
      field: 'body.protocol',
    },
    ...sweepCases(),
    { name: 'a run without a body', method: 'POST', url: '/runs', field: 'body' },
    { name: 'a run id with a leading dot', method: 'GET', url: '/runs/.hidden', field: 'params.id' },
    { name: 'cancelling a bad run id', method: 'DELETE', url: '/runs/.x', field: 'params.id' },
    {
      name: 'records in an unknown format',
      method: 'GET',
      url: '/runs/x/requests?format=xml',
      field: 'query.format',
    },
  ];

  it.each(cases)('$name → $field', async ({ method, url, payload, field }) => {
    const res = await app.inject({ method, url, payload: payload as Record<string, unknown>, headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe(field);
    expect(res.json().message).toContain(field);
  });

  it.each([
    {
      name: 'a misspelled field at the top level',
      url: '/runs',
      payload: { ...validRun, modle: 'm2' },
      field: 'body.modle',
      message: 'unrecognized key "modle" at body',
    },
    {
      name: 'a misspelled field inside workload',
      url: '/runs',
      payload: { ...validRun, workload: { ...validRun.workload, clinets: 4 } },
      field: 'body.workload.clinets',
      message: 'unrecognized key "clinets" at body.workload',
    },
    {
      name: 'two unknown fields inside workload',
      url: '/runs',
      payload: { ...validRun, workload: { ...validRun.workload, clinets: 4, rate: 2 } },
      field: 'body.workload.clinets',
      message: 'unrecognized keys "clinets", "rate" at body.workload',
    },
    {
      name: 'a misspelled field of a sweep level',
      url: '/runs',
      payload: { ...validRun, workload: { ...validRun.workload, sweep: { levels: [{ client: 4 }] } } },
      field: 'body.workload.sweep.levels.0.client',
      message: 'unrecognized key "client" at body.workload.sweep.levels.0',
    },
    {
      name: 'a misspelled field of an SLO',
      url: '/runs',
      payload: { ...validRun, slo: { ttftMs: 100, ttft_ms: 5 } },
      field: 'body.slo.ttft_ms',
      message: 'unrecognized key "ttft_ms" at body.slo',
    },
    {
      name: 'a misspelled field of a query',
      url: '/query',
      payload: { prompt: 'x', model: 'm', max_tokens: 5 },
      field: 'body.max_tokens',
      message: 'unrecognized key "max_tokens" at body',
    },
  ])('refuses $name with a 400 naming it, and starts nothing', async ({ url, payload, field, message }) => {
    const before = app.runs.list().length;
    const res = await app.inject({ method: 'POST', url, payload, headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'BadRequest', field });
    expect(res.json().message).toContain(message);
    expect(app.runs.list()).toHaveLength(before);
  });

  it('answers a body that is not JSON with a 400 on body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/runs',
      payload: '{not json',
      headers: { ...auth, 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe('body');
  });
});

describe('runs', () => {
  it('starts a run with 201, returns the same run with 200 for the same id, and 409 for another body', async () => {
    const first = await app.inject({ method: 'POST', url: '/runs', payload: validRun, headers: auth });
    expect(first.statusCode).toBe(201);
    expect(first.json().id).toBe('run-1');
    const again = await app.inject({ method: 'POST', url: '/runs', payload: validRun, headers: auth });
    expect(again.statusCode).toBe(200);
    expect(again.json().startedAt).toBe(first.json().startedAt);
    const other = await app.inject({
      method: 'POST',
      url: '/runs',
      payload: { ...validRun, workload: { ...validRun.workload, clients: 2 } },
      headers: auth,
    });
    expect(other.statusCode).toBe(409);
    expect(other.json().field).toBe('body.id');
  });

  it('classifies a refused connection and still finishes the run', async () => {
    const run = app.runs.get('run-1');
    await run?.done;
    const res = await app.inject({ method: 'GET', url: '/runs/run-1', headers: auth });
    // Every measured request failed, so the run did too (b7041e3), and its message counts the kinds.
    expect(res.json()).toMatchObject({
      state: 'failed',
      message: 'every measured request failed (1: 1 connection)',
      summary: { counts: { requests: 1, succeeded: 0, failed: 1 }, errors: { connection: 1 } },
    });
    const csv = await app.inject({ method: 'GET', url: '/runs/run-1/requests?format=csv', headers: auth });
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.trim().split('\n')).toHaveLength(2);
  });

  it('reports a run without sweep as its one stage', async () => {
    const res = await app.inject({ method: 'GET', url: '/runs/run-1', headers: auth });
    const body = res.json();
    expect(body.progress).toMatchObject({
      stage: 1,
      stages: 1,
      repeat: 1,
      repeats: 1,
      display: 'stage 1/1, 1/1 requests',
    });
    expect(body.stages).toHaveLength(1);
    expect(body.stages[0]).toMatchObject({
      stage: 1,
      state: 'done',
      mode: 'closed',
      load: { clients: 1, ratePerSecond: null },
      requests: 1,
      failed: 1,
      goodput: null,
      sloMet: null,
    });
    expect(body.saturation).toMatchObject({
      load: 'clients',
      knee: null,
      maxSloLoad: null,
      stoppedAfterStage: null,
    });
  });

  it('runs every level of a sweep, each repeated, and writes stages.json with each repeat in full', async () => {
    const payload = {
      id: 'sweep-1',
      model: 'm',
      workload: {
        clients: 1,
        requestsPerClient: 2,
        prompt: 'hi',
        repeat: 2,
        sweep: { range: { from: 1, to: 4, factor: 2 }, warmupRequests: 1 },
      },
      slo: { e2eMs: 1000 },
    };
    const started = await app.inject({ method: 'POST', url: '/runs', payload, headers: auth });
    expect(started.statusCode).toBe(201);
    await app.runs.get('sweep-1')?.done;
    const body = (await app.inject({ method: 'GET', url: '/runs/sweep-1', headers: auth })).json();
    expect(body.stages.map((s: { load: { clients: number } }) => s.load.clients)).toEqual([1, 2, 4]);
    expect(body.stages.map((s: { requests: number }) => s.requests)).toEqual([4, 8, 16]);
    expect(body.stages.every((s: { repeatsDone: number }) => s.repeatsDone === 2)).toBe(true);
    // Every request failed: nothing is good, and the SLO is missed (no threshold counted, errors are).
    expect(body.stages[2]).toMatchObject({ goodput: 0, attainment: 0, sloMet: false });
    expect(body.progress).toMatchObject({
      completed: 28,
      total: 28,
      warmupTotal: 6,
      stage: 3,
      repeat: 2,
      display: 'stage 3/3 (repeat 2/2), 8/8 requests',
    });
    const records = (await app.inject({ method: 'GET', url: '/runs/sweep-1/requests', headers: auth })).body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { stage: number; repeat: number; warmup: boolean });
    expect(records.filter((r) => !r.warmup && r.stage === 2 && r.repeat === 2)).toHaveLength(4);
    const file = JSON.parse(readFileSync(join(outputDir, 'sweep-1', 'stages.json'), 'utf8'));
    expect(file.repeats).toHaveLength(6);
    expect(file.levels[1].plan).toMatchObject({ stage: 2, clients: 2, requests: 4, warmupRequests: 1 });
  });

  it('stops a sweep early at a level that misses the SLO, and skips the rest', async () => {
    const payload = {
      id: 'sweep-stop',
      model: 'm',
      workload: {
        clients: 1,
        requestsPerClient: 1,
        prompt: 'hi',
        sweep: { levels: [{ clients: 1 }, { clients: 2 }, { clients: 3 }], stopWhenSaturated: true },
      },
      slo: { ttftMs: 100 },
    };
    await app.inject({ method: 'POST', url: '/runs', payload, headers: auth });
    await app.runs.get('sweep-stop')?.done;
    const body = (await app.inject({ method: 'GET', url: '/runs/sweep-stop', headers: auth })).json();
    expect(body.stages.map((s: { state: string }) => s.state)).toEqual(['done', 'skipped', 'skipped']);
    expect(body.saturation).toMatchObject({ stoppedAfterStage: 1, stopReason: 'slo', sloMetAnywhere: false });
    expect(body.progress.total).toBe(1);
  });

  it('answers 404 for a run it does not know', async () => {
    const res = await app.inject({ method: 'GET', url: '/runs/nope', headers: auth });
    expect(res.statusCode).toBe(404);
  });
});
