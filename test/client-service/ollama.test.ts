import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestRecord, RunStatus } from '../../client-service/api-schema.js';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';
import { requireHpc } from '../sandbox/description.js';
import { cancelJobs, jobScript, splitHostPort, submitJob, waitForEndpoints } from '../support/slurm.js';
import { openForward, type PortForward, remote } from '../support/ssh.js';
import { BUNDLE, buildBundle, startPushgateway } from './harness.js';

/**
 * The client-service against the REAL Ollama serving the sandbox model, both as SLURM jobs, the way the
 * operator runs them: the bundle is uploaded over SSH, the token travels in a file (mode 600), the service
 * is reached through an SSH port forward. The Pushgateway is a real one on this machine's loopback, which
 * the sandbox's single node reaches as well.
 */
describe('client-service job against the Ollama job', () => {
  const hpc = requireHpc();
  const jobs: string[] = [];
  const forwards: PortForward[] = [];
  let pushgateway: { url: string; stop: () => Promise<void> } | undefined;
  let client: { url: string; token: string; outputDir: string; host: string; port: number } | undefined;

  beforeAll(async () => {
    buildBundle();
    pushgateway = await startPushgateway();

    const ollamaJob = await submitJob(hpc.ssh, jobScript('ollama'), ['--partition=gpu', '--gres=gpu:1']);
    jobs.push(ollamaJob);
    const ollamaEndpoint = (await waitForEndpoints(hpc, ollamaJob, { timeoutMs: 240_000 })).ollama ?? '';

    // Upload the bundle content-addressed, as the operator does, and the token with mode 600.
    const bundle = readFileSync(BUNDLE);
    const digest = createHash('sha256').update(bundle).digest('hex').slice(0, 16);
    const dir = `${hpc.workDir}/client-service-it`;
    const bundlePath = `${dir}/client-service-${digest}.mjs`;
    await remote(hpc.ssh, `mkdir -p ${shellQuote(dir)} && cat > ${shellQuote(bundlePath)}`, {
      input: bundle.toString('utf8'),
    });
    const token = randomBytes(24).toString('base64url');
    const tokenFile = `${dir}/token-${digest}`;
    await remote(hpc.ssh, `umask 077 && cat > ${shellQuote(tokenFile)}`, { input: token });
    const outputDir = `${dir}/results`;

    const script = [
      '#!/bin/bash',
      '#SBATCH --job-name=ibo-client-it',
      '#SBATCH --time=30',
      'set -euo pipefail',
      `dir=${shellQuote(`${hpc.workDir}/test-endpoints`)}`,
      'mkdir -p "$dir"',
      'file=$dir/$SLURM_JOB_ID.json',
      `port=$(node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')`,
      'trap \'rm -f "$file" "$file.tmp"\' EXIT',
      "trap 'exit 143' TERM INT",
      [
        'node',
        shellQuote(bundlePath),
        '--host 127.0.0.1 --port "$port"',
        `--token-file ${shellQuote(tokenFile)}`,
        `--ollama-url ${shellQuote(`http://${ollamaEndpoint}`)}`,
        `--pushgateway-url ${shellQuote(pushgateway.url)}`,
        '--push-interval-seconds 2',
        `--output-dir ${shellQuote(outputDir)}`,
        `--model ${shellQuote(hpc.ollama.model)}`,
        '--benchmark ollama-it &',
      ].join(' '),
      'server=$!',
      'until curl -fsS -o /dev/null "http://127.0.0.1:$port/health"; do',
      '  kill -0 "$server" 2>/dev/null || { echo "client-service exited before answering" >&2; exit 1; }',
      '  sleep 0.2',
      'done',
      'printf \'{"client":"127.0.0.1:%s"}\\n\' "$port" >"$file.tmp" && mv -f "$file.tmp" "$file"',
      'wait "$server"',
      '',
    ].join('\n');
    const clientJob = await submitJob(hpc.ssh, script, ['--partition=cpu']);
    jobs.push(clientJob);
    const clientEndpoint = splitHostPort((await waitForEndpoints(hpc, clientJob)).client ?? '');
    const forward = await openForward(hpc.ssh, clientEndpoint.host, clientEndpoint.port);
    forwards.push(forward);
    client = { url: forward.url, token, outputDir, ...clientEndpoint };
  }, 300_000);

  afterAll(async () => {
    for (const f of forwards) await f.close().catch(() => undefined);
    if (jobs.length > 0) await cancelJobs(hpc.ssh, jobs).catch(() => undefined);
    await pushgateway?.stop();
  });

  /**
   * Other suites restart the sandbox's sshd, which ends our `ssh -L`: the job itself goes on, so a refused
   * local connection reopens the forward once and retries.
   */
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const c = client;
    if (c === undefined) throw new Error('the client-service job did not come up');
    const send = (): Promise<Response> =>
      fetch(`${c.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${c.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    try {
      return await send();
    } catch (err) {
      if (!String((err as { cause?: unknown }).cause).includes('ECONNREFUSED')) throw err;
      const forward = await openForward(hpc.ssh, c.host, c.port);
      forwards.push(forward);
      c.url = forward.url;
      return send();
    }
  };

  it('reports Ollama healthy with its version', async () => {
    const res = await call('GET', '/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', ollama: { reachable: true } });
  });

  it('completes 4 clients × 3 requests with decodeTps > 0 and TTFT < e2e', async () => {
    const runId = `ollama-it-${Date.now()}`;
    const started = await call('POST', '/runs', {
      id: runId,
      workload: {
        clients: 4,
        requestsPerClient: 3,
        prompt: 'Name three colours of the rainbow.',
        // Short answers and a generous timeout: the sandbox's two cores are shared with other suites.
        maxTokens: 8,
        temperature: 0,
        seed: 1,
        requestTimeoutSeconds: 600,
      },
    });
    expect(started.status).toBe(201);
    let status: RunStatus | undefined;
    const deadline = Date.now() + 660_000;
    while (Date.now() < deadline) {
      status = RunStatus.parse(await (await call('GET', `/runs/${runId}`)).json());
      if (status.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status?.state).toBe('succeeded');
    const s = status?.summary;
    expect(s?.counts).toEqual({ requests: 12, succeeded: 12, failed: 0, warmup: 0 });
    expect(s?.decodeTps.p50).toBeGreaterThan(0);
    expect(s?.ttftMs.p50).toBeGreaterThan(0);
    expect(s?.ttftMs.p50).toBeLessThan(s?.e2eMs.p50 ?? 0);
    expect(s?.tokens.estimatedOutputRequests).toBe(0);

    const records = (await (await call('GET', `/runs/${runId}/requests`)).text())
      .trim()
      .split('\n')
      .map((line) => RequestRecord.parse(JSON.parse(line)));
    expect(records).toHaveLength(12);
    for (const r of records) {
      expect(r.ok).toBe(true);
      expect(r.decodeTps).toBeGreaterThan(0);
      expect(r.ttftMs).toBeLessThan(r.e2eMs ?? 0);
    }

    // The results files on the cluster, next to the job: 12 records, and the summary.
    const runDir = `${client?.outputDir}/${runId}`;
    const lines = await remote(hpc.ssh, `wc -l < ${shellQuote(`${runDir}/records.jsonl`)}`);
    expect(Number(lines.trim())).toBe(12);
    const summary = RunStatus.parse(
      JSON.parse(await remote(hpc.ssh, `cat ${shellQuote(`${runDir}/summary.json`)}`)),
    );
    expect(summary.summary.counts.succeeded).toBe(12);
    expect(summary.pushgateway.failures).toBe(0);

    // The Pushgateway holds the run's metrics, including the old tokens_per_second per client.
    const pushed = await (await fetch(`${pushgateway?.url}/metrics`)).text();
    const ours = pushed.split('\n').filter((l) => l.includes(`run="${runId}"`));
    expect(ours.filter((l) => l.startsWith('tokens_per_second{'))).toHaveLength(4);
    expect(ours.some((l) => /^ibo_client_requests_total\{.*outcome="success".*\} 12$/.test(l))).toBe(true);
  }, 720_000);

  it.each(['chat', 'completions'] as const)(
    "measures Ollama's OpenAI-compatible /v1/%s over SSE, with tokens from its usage chunk",
    async (openaiApi) => {
      const runId = `ollama-openai-${openaiApi}-${Date.now()}`;
      const started = await call('POST', '/runs', {
        id: runId,
        protocol: 'openai',
        openaiApi,
        workload: {
          clients: 2,
          requestsPerClient: 2,
          prompt: 'Name three colours of the rainbow.',
          maxTokens: 8,
          temperature: 0,
          seed: 1,
          requestTimeoutSeconds: 600,
        },
      });
      expect(started.status).toBe(201);
      let status: RunStatus | undefined;
      const deadline = Date.now() + 660_000;
      while (Date.now() < deadline) {
        status = RunStatus.parse(await (await call('GET', `/runs/${runId}`)).json());
        if (status.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(status?.state).toBe('succeeded');
      const s = status?.summary;
      expect(s?.counts).toEqual({ requests: 4, succeeded: 4, failed: 0, warmup: 0 });
      expect(s?.ttftMs.p50).toBeGreaterThan(0);
      expect(s?.ttftMs.p50).toBeLessThan(s?.e2eMs.p50 ?? 0);
      expect(s?.tokens.estimatedOutputRequests).toBe(0);
      expect(s?.tokens.output).toBeGreaterThan(0);
      expect(s?.tokens.prompt).toBeGreaterThan(0);
      // The OpenAI API reports no eval_duration: null, never 0.
      expect(s?.decodeTps.p50).toBeNull();
      expect(s?.clientTps.p50).toBeGreaterThan(0);
      const records = (await (await call('GET', `/runs/${runId}/requests`)).text())
        .trim()
        .split('\n')
        .map((line) => RequestRecord.parse(JSON.parse(line)));
      for (const r of records) {
        expect(r).toMatchObject({ ok: true, outputTokensSource: 'server' });
        expect(r.evalCount).toBeLessThanOrEqual(8);
        expect(r.doneReason).toMatch(/^(stop|length)$/);
      }
    },
    720_000,
  );
});
