import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createParser } from 'eventsource-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { requireHpc } from '../sandbox/description.js';
import { freeLocalPort, runProgram } from '../support/ssh.js';
import { GiveUp, waitFor } from '../support/wait.js';

// llama.cpp's OpenAI-compatible server as a `containerRuntime: native` job runs it: the `llama-server` on
// the cluster user's PATH (test/sandbox/hpc/llama-server.in, a stand-in that takes llama.cpp's flags and
// runs llama-cpp-python), serving the GGUF blob Ollama serves. It is started here as the cluster user with
// a clean environment (setpriv --reset-env gives the PATH a job has), on a free loopback port.
// Figures (start to ready, chunks, decode rate) are printed, never asserted.

const hpc = requireHpc();
const llamacpp = hpc.llamacpp;
if (!llamacpp) throw new Error('the sandbox has no llama.cpp server: run `bash test/sandbox/sandbox up`');

/** argv that runs `args` as the cluster user, with the environment a login shell would reset to. */
function asClusterUser(args: readonly string[]): [string, string[]] {
  const user = hpc.ssh.user;
  return ['setpriv', ['--reuid', user, '--regid', user, '--init-groups', '--reset-env', ...args]];
}

const ModelList = z.object({ data: z.array(z.object({ id: z.string() })) });
const CompletionChunk = z.object({
  choices: z.array(z.object({ text: z.string(), finish_reason: z.string().nullable().optional() })),
  usage: z.object({ completion_tokens: z.number().int() }).nullable().optional(),
});

interface StreamedCompletion {
  text: string;
  contentChunks: number;
  usageTokens: number | undefined;
  done: boolean;
  firstChunkMs: number;
  lastChunkMs: number;
  startMs: number;
}

/** One streamed /v1/completions request, read with eventsource-parser as the client service reads SSE. */
async function streamCompletion(baseUrl: string, body: object): Promise<StreamedCompletion> {
  const result: StreamedCompletion = {
    text: '',
    contentChunks: 0,
    usageTokens: undefined,
    done: false,
    firstChunkMs: Number.NaN,
    lastChunkMs: Number.NaN,
    startMs: performance.now(),
  };
  const response = await fetch(`${baseUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok || !response.body) {
    throw new Error(`/v1/completions answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  }
  const parser = createParser({
    onEvent(event) {
      if (event.data === '[DONE]') {
        result.done = true;
        return;
      }
      const chunk = CompletionChunk.parse(JSON.parse(event.data));
      if (chunk.usage) result.usageTokens = chunk.usage.completion_tokens;
      const text = chunk.choices.map((c) => c.text).join('');
      if (text.length === 0) return;
      const now = performance.now();
      if (result.contentChunks === 0) result.firstChunkMs = now;
      result.lastChunkMs = now;
      result.contentChunks += 1;
      result.text += text;
    },
  });
  const decoder = new TextDecoder();
  for await (const bytes of response.body) parser.feed(decoder.decode(bytes, { stream: true }));
  return result;
}

describe('the sandbox llama.cpp server (llama-server on the cluster user PATH)', () => {
  const alias = 'gemma3-270m';
  let server: ChildProcess | undefined;
  let exited: Promise<number | null> | undefined;
  let stderr = '';
  let baseUrl = '';

  afterAll(() => {
    if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  });

  it("links the GGUF to the model blob of Ollama's manifest, readable by the cluster user", async () => {
    const [name, tag] = hpc.ollama.model.split(':');
    const manifestPath = join(
      hpc.ollama.modelsDir,
      'manifests/registry.ollama.ai/library',
      name ?? '',
      tag ?? '',
    );
    const Manifest = z.object({ layers: z.array(z.object({ mediaType: z.string(), digest: z.string() })) });
    const manifest = Manifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
    const model = manifest.layers.find((l) => l.mediaType === 'application/vnd.ollama.image.model');
    expect(model).toBeDefined();
    expect(realpathSync(llamacpp.ggufPath)).toBe(
      join(hpc.ollama.modelsDir, 'blobs', (model?.digest ?? '').replace(':', '-')),
    );
    const [program, args] = asClusterUser(['head', '-c', '4', llamacpp.ggufPath]);
    const magic = await runProgram(program, args);
    expect(magic).toMatchObject({ code: 0, stdout: 'GGUF' });
  });

  it.each([
    ['a llama.cpp flag the stand-in does not translate', ['--mlock'], '--mlock'],
    ["llama-cpp-python's own spelling of a flag", ['--n_ctx', '512'], '--n_ctx'],
  ])('refuses %s, naming it', async (_case, extra, named) => {
    const [program, args] = asClusterUser(['llama-server', '-m', llamacpp.ggufPath, ...extra]);
    const result = await runProgram(program, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(named);
    expect(result.stderr).toContain('sandbox stand-in');
  });

  it('serves the GGUF Ollama serves: /v1/models answers with the alias once it is ready', async () => {
    const port = await freeLocalPort();
    baseUrl = `http://127.0.0.1:${port}`;
    const [program, args] = asClusterUser([
      'llama-server',
      '-m',
      llamacpp.ggufPath,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '-c',
      '2048',
      '--alias',
      alias,
      '-np',
      '4',
      // One thread: on this 2-core machine shared with other work, -t 2 decoded at ~10 tokens/s against ~31
      // with -t 1 (llama.cpp's threads wait for each other whenever one of them is descheduled).
      '-t',
      '1',
      '--seed',
      '42',
    ]);
    const started = performance.now();
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    server = child;
    exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });

    const models = await waitFor(
      'llama-server to answer /v1/models',
      async () => {
        if (child.exitCode !== null) throw new GiveUp(`llama-server exited ${child.exitCode}:\n${stderr}`);
        const response = await fetch(`${baseUrl}/v1/models`);
        return response.ok ? ModelList.parse(await response.json()) : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    const readyMs = performance.now() - started;
    expect(models.data.map((m) => m.id)).toEqual([alias]);
    // The stand-in says what it does with -np: one request at a time.
    expect(stderr).toMatch(/-np\/--parallel 4 ignored/);

    // Which readiness endpoints exist: llama.cpp's C++ server has /health, llama-cpp-python may not.
    const health = await fetch(`${baseUrl}/health`);
    console.log(
      `llama-server ready ${(readyMs / 1000).toFixed(2)} s after start; GET /health -> ${health.status}, ` +
        `GET /v1/models -> 200`,
    );
  });

  it('streams /v1/completions with real text at temperature 0, and says whether a usage chunk came', async () => {
    if (!baseUrl || !server) throw new Error('the server did not come up');
    const result = await streamCompletion(baseUrl, {
      model: alias,
      prompt: 'Write a short story about a lighthouse keeper who finds a message in a bottle.',
      max_tokens: 128,
      temperature: 0,
      seed: 42,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(result.done).toBe(true);
    expect(result.contentChunks).toBeGreaterThan(1);
    expect(result.text.trim().length).toBeGreaterThan(0);
    expect(result.text).toMatch(/[A-Za-z]{3,}/);

    const decodeSeconds = (result.lastChunkMs - result.firstChunkMs) / 1000;
    console.log(
      `llama-server /v1/completions: ${result.contentChunks} content chunks, usage chunk: ` +
        `${result.usageTokens === undefined ? 'none' : `${result.usageTokens} completion tokens`}, ` +
        `first chunk ${((result.firstChunkMs - result.startMs) / 1000).toFixed(2)} s, ` +
        `decode ~${((result.contentChunks - 1) / decodeSeconds).toFixed(1)} chunks/s ` +
        `(chunks after the first / time from first to last)\ntext: ${JSON.stringify(result.text.slice(0, 160))}`,
    );
  });

  it('stops on SIGTERM: the launcher exec-ed the server, so the signal reaches it', async () => {
    if (!server || !exited) throw new Error('the server did not come up');
    server.kill('SIGTERM');
    const stillRunning = (): Promise<undefined> =>
      new Promise((resolve) => setTimeout(() => resolve(undefined), 200));
    const code = await waitFor(
      'llama-server to exit after SIGTERM',
      () => Promise.race([exited, stillRunning()]),
      {
        timeoutMs: 30_000,
      },
    );
    // uvicorn shuts down cleanly on SIGTERM (exit 0); dying of the signal itself is fine too. What must not
    // happen is a launcher that dies while its server child keeps the port.
    expect(code === 0 || server.signalCode === 'SIGTERM').toBe(true);
    await expect(fetch(`${baseUrl}/v1/models`)).rejects.toThrow();
  });
});
