/**
 * `npm run bench:operator`: N short benchmarks applied at once on the sandbox (default 50; IBO_BENCH_COUNT),
 * one operator process (the bundle), and the figures the issue asks for:
 * - SSH connections opened (sshd's "Accepted publickey" lines during the run, and the operator's
 *   established connections at the end);
 * - squeue calls per poll interval (ibo_slurm_commands_total{verb="squeue"}: the batched polls plus the
 *   operator's one listing of the user's jobs for adoption);
 * - latency from kubectl apply to sbatch (SLURM's submit time of the server job), p50 and p99, for the
 *   benchmarks admitted at once, and from a freed place (a run's completion) to the next waiting one's sbatch;
 * - the same two latencies in milliseconds from the operator's log: apply to the "submitted" line of the
 *   server job, and the write of a run's end (its "phase changed" line) to the next server's "submitted";
 * - the operator's peak RSS and CPU time (/proc), and where the memory is at its peak (V8 heap used and
 *   allocated, external and array buffers, sampled from its metrics at every look);
 * - the total time until every benchmark is Succeeded (or Failed).
 * IBO_BENCH_NODE_OPTIONS passes V8/Node flags to the operator (e.g. --max-semi-space-size=2), to measure them.
 * IBO_BENCH_HEAP_SNAPSHOT=1 writes a heap snapshot of the operator at the end (after the figures are read:
 * writing one doubles the heap for a moment), into the run's log directory.
 * The cluster admits IBO_BENCH_MAX_ACTIVE benchmarks at once (spec.maxActiveBenchmarks, default 3): the
 * sandbox has 8 job slots and every benchmark needs two at the same time.
 * Prints figures; asserts nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { E2eEnvironment, metricSum } from '../e2e/environment.js';
import { kubectlOk } from '../support/kube-cli.js';

const COUNT = Number(process.env.IBO_BENCH_COUNT ?? 50);
const TIMEOUT_MS = Number(process.env.IBO_BENCH_TIMEOUT_SECONDS ?? 3600) * 1000;
const MAX_ACTIVE = Number(process.env.IBO_BENCH_MAX_ACTIVE ?? 3);
const namespace = `bench-op-${Date.now().toString(36)}`;
const env = new E2eEnvironment(namespace);

interface Listed {
  items: Array<{
    metadata: { name: string; creationTimestamp: string };
    status?: {
      phase?: string;
      completionTime?: string;
      slurmJobs?: Array<{ role: string; submitTime?: string }>;
    };
  }>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

function sshdLogPath(): string {
  return join(env.hpc.ssh.configPath, '..', 'sshd.log');
}

function acceptedLogins(): number {
  const path = sshdLogPath();
  if (!existsSync(path)) return Number.NaN;
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.includes(`Accepted publickey for ${env.hpc.ssh.user}`)).length;
}

function procFigures(pid: number): { peakRssMb: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { peakRssMb: hwm / 1024, cpuSeconds: ticks / 100 };
}

async function main(): Promise<void> {
  console.log(`bench:operator: ${COUNT} benchmarks in namespace ${namespace}`);
  // The benchmarks here measure the operator, not the monitoring stack: leave it off to spare the CPUs.
  await env.setUp({ monitoring: false });
  await env.setMaxActiveBenchmarks(MAX_ACTIVE);
  const snapshot = process.env.IBO_BENCH_HEAP_SNAPSHOT === '1';
  const nodeOptions = [
    process.env.IBO_BENCH_NODE_OPTIONS ?? '',
    snapshot ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${env.logDir}` : '',
  ]
    .filter((option) => option !== '')
    .join(' ');
  if (nodeOptions) console.log(`  operator's NODE_OPTIONS: ${nodeOptions}`);
  const operator = await env.startOperator({
    bundle: true,
    ...(nodeOptions ? { env: { NODE_OPTIONS: nodeOptions } } : {}),
  });
  const pid = operator.child.pid ?? 0;
  const loginsBefore = acceptedLogins();

  const manifests = Array.from({ length: COUNT }, (_, i) =>
    env.benchmarkManifest(`b${String(i).padStart(3, '0')}`, {
      slurm: { partition: 'cpu', memGB: 1, time: '00:30:00' },
      clientService: { partition: 'cpu', memGB: 1, cpus: 1, time: '00:30:00' },
      workload: { clients: 1, requestsPerClient: 1, maxTokens: 4, prompt: 'Hi.', requestTimeoutSeconds: 300 },
      monitoring: { enabled: false },
    }),
  );
  const metricsBefore = await env.metrics();
  const appliedAt = Date.now();
  await kubectlOk(['apply', '-f', '-'], { input: manifests.map((m) => stringify(m)).join('---\n') });
  const appliedDone = Date.now();

  let listed: Listed = { items: [] };
  const deadline = appliedAt + TIMEOUT_MS;
  let lastReport = 0;
  const memory = new MemoryPeak();
  for (;;) {
    memory.sample(await env.metrics());
    listed = JSON.parse(await env.kubectl(['get', 'ib', '-o', 'json'])) as Listed;
    const phases = new Map<string, number>();
    for (const item of listed.items) {
      const phase = item.status?.phase ?? 'none';
      phases.set(phase, (phases.get(phase) ?? 0) + 1);
    }
    const settled = (phases.get('Succeeded') ?? 0) + (phases.get('Failed') ?? 0);
    if (Date.now() - lastReport > 30_000) {
      lastReport = Date.now();
      console.log(
        `  t+${((Date.now() - appliedAt) / 1000).toFixed(0)} s: ${JSON.stringify(Object.fromEntries(phases))}`,
      );
    }
    if (listed.items.length === COUNT && settled === COUNT) break;
    if (Date.now() > deadline) {
      console.log('  timed out before every benchmark settled');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  const totalSeconds = (Date.now() - appliedAt) / 1000;
  const metricsAfter = await env.metrics();
  memory.sample(metricsAfter);
  const loginsAfter = acceptedLogins();
  const proc = procFigures(pid);
  const established = Number(
    (await import('node:child_process'))
      .execFileSync('ss', ['-Htnp', 'state', 'established', `dport = :${env.hpc.ssh.port}`], {
        encoding: 'utf8',
      })
      .split('\n')
      .filter((line) => line.includes(`pid=${pid},`)).length,
  );

  const serverSubmits = listed.items
    .map((item) => {
      const submit = item.status?.slurmJobs?.find((job) => job.role === 'server')?.submitTime;
      return submit ? Date.parse(submit) : Number.NaN;
    })
    .filter((value) => Number.isFinite(value))
    .sort((a, b) => a - b);
  // The first MAX_ACTIVE went in at once; each later one took the place of the k-th run to complete.
  const latencies = serverSubmits.slice(0, MAX_ACTIVE).map((at) => at - appliedAt);
  const completions = listed.items
    .map((item) => Date.parse(item.status?.completionTime ?? ''))
    .filter((value) => Number.isFinite(value))
    .sort((a, b) => a - b);
  const handoffs = serverSubmits
    .slice(MAX_ACTIVE)
    .map((at, k) => at - (completions[k] ?? Number.NaN))
    .filter((value) => Number.isFinite(value))
    .sort((a, b) => a - b);
  const allLatencies = serverSubmits.map((at) => at - appliedAt);
  const squeueCalls =
    metricSum(metricsAfter, 'ibo_slurm_commands_total', 'verb="squeue"') -
    metricSum(metricsBefore, 'ibo_slurm_commands_total', 'verb="squeue"');
  const sbatchCalls =
    metricSum(metricsAfter, 'ibo_slurm_commands_total', 'verb="sbatch"') -
    metricSum(metricsBefore, 'ibo_slurm_commands_total', 'verb="sbatch"');
  const delta = (name: string, labels: string) =>
    metricSum(metricsAfter, name, labels) - metricSum(metricsBefore, name, labels);
  const reconciles = delta('ibo_reconcile_total', 'controller="inferencebenchmark"');
  const statusWrites = delta('ibo_status_writes_total', 'resource="inferencebenchmarks"');
  const succeeded = listed.items.filter((item) => item.status?.phase === 'Succeeded').length;
  const fastIntervalSeconds = 2;

  console.log('\nresults');
  console.log(
    `  benchmarks                       ${COUNT} (${succeeded} Succeeded), applied in ${((appliedDone - appliedAt) / 1000).toFixed(1)} s`,
  );
  console.log(`  total time to all settled        ${totalSeconds.toFixed(0)} s`);
  console.log(
    `  SSH logins accepted by sshd      ${loginsAfter - loginsBefore} (whole machine, other users of the sandbox included)`,
  );
  console.log(`  operator's SSH connections now   ${established}`);
  console.log(`  sbatch calls                     ${sbatchCalls} (2 per benchmark expected)`);
  console.log(`  squeue calls                     ${squeueCalls} in ${totalSeconds.toFixed(0)} s`);
  console.log(
    `  squeue calls per 2 s interval    ${(squeueCalls / (totalSeconds / fastIntervalSeconds)).toFixed(2)} (target 1: one batched query per interval serves every benchmark)`,
  );
  console.log(
    `  InferenceBenchmark reconciles    ${reconciles} = ${(reconciles / totalSeconds).toFixed(2)}/s, ${(reconciles / totalSeconds / COUNT).toFixed(3)}/s per benchmark`,
  );
  console.log(
    `  InferenceBenchmark status writes ${statusWrites} = ${(statusWrites / totalSeconds).toFixed(2)}/s, ${(statusWrites / COUNT).toFixed(1)} per benchmark`,
  );
  const seconds = (values: readonly number[], p: number) => (percentile(values, p) / 1000).toFixed(1);
  console.log(`  maxActiveBenchmarks              ${MAX_ACTIVE}`);
  console.log(
    `  apply -> sbatch, admitted at once p50 ${seconds(latencies, 50)} s, p99 ${seconds(latencies, 99)} s over ${latencies.length} (SLURM submit times have 1 s resolution)`,
  );
  console.log(
    `  freed place -> next sbatch       p50 ${seconds(handoffs, 50)} s, p99 ${seconds(handoffs, 99)} s over ${handoffs.length} (run completion to the next server's submit)`,
  );
  console.log(
    `  apply -> sbatch, all (waits incl.) p50 ${seconds(allLatencies, 50)} s, p99 ${seconds(allLatencies, 99)} s`,
  );
  const logged = loggedLatencies(operator.logFile, appliedAt);
  const ms = (values: readonly number[], p: number) => percentile(values, p).toFixed(0);
  console.log(
    `  apply -> sbatch (operator log)   p50 ${ms(logged.applyToSubmit, 50)} ms, p99 ${ms(logged.applyToSubmit, 99)} ms over ${logged.applyToSubmit.length} (the first ${MAX_ACTIVE} "submitted" server lines)`,
  );
  console.log(
    `  end written -> next sbatch (log) p50 ${ms(logged.handoffs, 50)} ms, p99 ${ms(logged.handoffs, 99)} ms over ${logged.handoffs.length} (a run's end in the apiserver to the next server's "submitted")`,
  );
  console.log(`  operator peak RSS                ${proc.peakRssMb.toFixed(0)} MB`);
  console.log(`  memory at the highest RSS seen   ${memory.describe()}`);
  console.log(`  operator CPU time                ${proc.cpuSeconds.toFixed(1)} s (user + system)`);
  if (snapshot) console.log(`  heap snapshot                    ${await heapSnapshot(pid, env.logDir)}`);
}

/** The largest RSS the metrics showed, and how the process's memory split at that moment. */
class MemoryPeak {
  private peak: Record<string, number> | undefined;

  sample(metrics: string): void {
    const mb = (name: string) => metricSum(metrics, name) / 1024 / 1024;
    const now = {
      rss: mb('ibo_process_resident_memory_bytes'),
      heapUsed: mb('ibo_nodejs_heap_size_used_bytes'),
      heapTotal: mb('ibo_nodejs_heap_size_total_bytes'),
      external: mb('ibo_nodejs_external_memory_bytes'),
    };
    if (!this.peak || (now.rss ?? 0) > (this.peak.rss ?? 0)) this.peak = now;
  }

  describe(): string {
    const p = this.peak;
    if (!p) return 'not sampled';
    const f = (value: number | undefined) => (value ?? Number.NaN).toFixed(0);
    return `${f(p.rss)} MB RSS: V8 heap ${f(p.heapUsed)} MB used of ${f(p.heapTotal)} MB allocated, external ${f(p.external)} MB, the rest (code, stacks, native) ${f((p.rss ?? 0) - (p.heapTotal ?? 0) - (p.external ?? 0))} MB`;
  }
}

/**
 * Milliseconds from the operator's own log lines: "submitted" (role server) is logged when sbatch returned,
 * "phase changed" to Succeeded or Failed when the status write of the end returned.
 */
function loggedLatencies(
  logFile: string,
  appliedAt: number,
): { applyToSubmit: number[]; handoffs: number[] } {
  const submits: number[] = [];
  const ends: number[] = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { time?: string; msg?: string; role?: string; phase?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    const at = Date.parse(entry.time ?? '');
    if (!Number.isFinite(at) || at < appliedAt) continue;
    if (entry.msg === 'submitted' && entry.role === 'server') submits.push(at);
    if (entry.msg === 'phase changed' && (entry.phase === 'Succeeded' || entry.phase === 'Failed'))
      ends.push(at);
  }
  submits.sort((a, b) => a - b);
  ends.sort((a, b) => a - b);
  const applyToSubmit = submits.slice(0, MAX_ACTIVE).map((at) => at - appliedAt);
  const handoffs = submits
    .slice(MAX_ACTIVE)
    .map((at, k) => at - (ends[k] ?? Number.NaN))
    .filter((value) => Number.isFinite(value))
    .sort((a, b) => a - b);
  return { applyToSubmit: applyToSubmit.sort((a, b) => a - b), handoffs };
}

/** SIGUSR2 (--heapsnapshot-signal) and the file once V8 finished writing it. */
async function heapSnapshot(pid: number, dir: string): Promise<string> {
  const { readdirSync, statSync } = await import('node:fs');
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 120_000;
  let lastSize = -1;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const file = readdirSync(dir).find((name) => name.endsWith('.heapsnapshot') && !before.has(name));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    if (size > 0 && size === lastSize) return join(dir, file);
    lastSize = size;
  }
  return 'not written within 120 s';
}

try {
  await main();
} finally {
  await env.tearDown().catch((error: unknown) => console.error('tear-down:', error));
}
