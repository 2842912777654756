import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyntheticOllama } from '../../test/synthetic-ollama/server.js';
import { StartRunRequest } from '../api-schema.js';
import { buildApp } from '../app.js';
import { rowMaxTokens } from './benchmark-run.js';
import { parsePromptRows } from './prompts-file.js';

describe('a prompts file (workload.promptsFile)', () => {
  it('reads JSON lines of {prompt, maxTokens?}, skipping blank lines', () => {
    expect(parsePromptRows('{"prompt":"a","maxTokens":3}\n\n{"prompt":"b"}\n', 'f')).toEqual([
      { prompt: 'a', maxTokens: 3 },
      { prompt: 'b' },
    ]);
  });

  it.each([
    ['bad JSON names the line', '{"prompt":"a"}\n{"prompt"', /^f line 2: not JSON/],
    [
      'a row without prompt names the line and the field',
      '{"prompt":"a"}\n\n{"maxTokens":2}',
      /^f line 3: prompt: /,
    ],
    [
      'an unknown field names it (the operator writes exactly these two)',
      '{"prompt":"a","x":1}',
      /^f line 1: row: /,
    ],
    ['an empty file has no prompts', '\n', /^f: no prompts$/],
  ])('refuses a malformed file: %s', (_case, text, message) => {
    expect(() => parsePromptRows(text, 'f')).toThrow(message);
  });

  it("takes a row's maxTokens within the workload's", () => {
    expect(rowMaxTokens({ prompt: 'p', maxTokens: 3 }, 8)).toBe(3);
    expect(rowMaxTokens({ prompt: 'p', maxTokens: 30 }, 8)).toBe(8);
    expect(rowMaxTokens({ prompt: 'p' }, 8)).toBe(8);
    expect(rowMaxTokens({ prompt: 'p', maxTokens: 3 }, undefined)).toBe(3);
  });

  it('is exclusive with prompt and prompts, and a path on the cluster', () => {
    const run = (workload: object) =>
      StartRunRequest.safeParse({ id: 'r', workload: { clients: 1, requestsPerClient: 1, ...workload } });
    expect(run({ promptsFile: '/home/u/bin/abc-prompts.jsonl' }).success).toBe(true);
    const both = run({ promptsFile: '/a.jsonl', prompt: 'x' });
    expect(both.success).toBe(false);
    expect(both.error?.issues[0]?.path).toEqual(['workload', 'promptsFile']);
    expect(run({ promptsFile: 'relative.jsonl' }).success).toBe(false);
    expect(run({ promptsFile: '/a b;rm.jsonl' }).success).toBe(false);
  });
});

const TOKEN = 'prompts-file-test-token-0123456789';
const headers = { authorization: `Bearer ${TOKEN}` };

describe('a run from a prompts file against a synthetic server', () => {
  const server = new SyntheticOllama({
    default: { tokenCount: 16, firstTokenDelayMs: 1, interTokenDelayMs: 0 },
  });
  let app: FastifyInstance;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prompts-file-'));
    file = join(dir, 'prompts.jsonl');
    writeFileSync(
      file,
      '{"prompt":"one","maxTokens":3}\n{"prompt":"two","maxTokens":5}\n{"prompt":"three"}\n',
    );
    app = await buildApp({
      host: '127.0.0.1',
      port: 0,
      ollamaUrl: await server.listen(),
      pushIntervalSeconds: 5,
      outputDir: dir,
      benchmark: 'unit',
      logLevel: 'silent',
      token: TOKEN,
      metricsToken: null,
    });
  });

  afterAll(async () => {
    await app.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['ollama', {}],
    ['openai', { protocol: 'openai' }],
  ])(
    "honours each row's maxTokens over protocol %s, and reports the output token quantiles",
    async (name, protocol) => {
      const id = `prompts-${name}`;
      const started = await app.inject({
        method: 'POST',
        url: '/runs',
        headers,
        payload: {
          id,
          model: 'm',
          ...protocol,
          workload: { clients: 1, requestsPerClient: 6, maxTokens: 8, promptsFile: file },
          environment: { engine: 'ollama', serverNode: { node: 'n1', cpus: 2 } },
        },
      });
      expect(started.statusCode, started.body).toBe(201);
      await app.runs.get(id)?.done;
      const status = (await app.inject({ method: 'GET', url: `/runs/${id}`, headers })).json();
      expect(status.state).toBe('succeeded');
      expect(status.promptsFile).toEqual({ path: file, rows: 3 });
      // Rows in turn: 3, 5, then the workload's 8 (the synthetic server has 16 to give).
      const records = app.runs
        .get(id)
        ?.records()
        .map((m) => m.record.outputTokens);
      expect(records).toEqual([3, 5, 8, 3, 5, 8]);
      expect(status.summary.tokens.outputPerRequest).toEqual({ p50: 5, p90: 8, p99: 8 });
      expect(status.environment).toEqual({
        engine: 'ollama',
        serverNode: { node: 'n1', cpus: 2 },
        clientServiceVersion: expect.any(String),
      });
    },
  );

  it('fails a run whose prompts file is missing, naming it', async () => {
    const started = await app.inject({
      method: 'POST',
      url: '/runs',
      headers,
      payload: {
        id: 'missing',
        model: 'm',
        workload: { clients: 1, requestsPerClient: 1, promptsFile: `${dir}/nope.jsonl` },
      },
    });
    expect(started.statusCode).toBe(201);
    await app.runs.get('missing')?.done;
    const status = (await app.inject({ method: 'GET', url: '/runs/missing', headers })).json();
    expect(status).toMatchObject({ state: 'failed', message: `promptsFile ${dir}/nope.jsonl: no such file` });
  });
});
