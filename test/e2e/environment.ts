import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { stringify } from 'yaml';
import type { InferenceBenchmarkSpecInput, InferenceBenchmarkStatus } from '../../crds/index.js';
import { isTerminal } from '../../slurm-bridge/index.js';
import { parseJobState } from '../../slurm-bridge/slurm/states.js';
import {
  type HpcSandbox,
  type KubeSandbox,
  readSandbox,
  requireHpc,
  requireKube,
} from '../sandbox/description.js';
import { kubectl, kubectlOk } from '../support/kube-cli.js';
import { freeLocalPort, remote } from '../support/ssh.js';
import { waitFor } from '../support/wait.js';

/**
 * One end-to-end environment per test file: a namespace of its own on the real kube-apiserver, a Secret with
 * the sandbox's SSH key and known_hosts, a SlurmCluster with its own work dir (so its monitoring stack and
 * files never mix with another file's), and the operator as a child process watching only that namespace.
 * Everything is driven with the sandbox's real kubectl, as a user would.
 */
export const ROOT = join(import.meta.dirname, '..', '..');
/** Per-test limit: a run on the shared two-core sandbox can queue behind other suites' jobs. */
export const E2E_TEST_TIMEOUT_MS = 900_000;
export const MODEL_FROM_SANDBOX = (): string => requireHpc().ollama.model;

export interface BenchmarkObject {
  metadata: { name: string; uid: string; generation: number; finalizers?: string[] };
  spec: InferenceBenchmarkSpecInput;
  status?: InferenceBenchmarkStatus;
}

export interface OperatorProcess {
  child: ChildProcess;
  metricsUrl: string;
  healthUrl: string;
  logFile: string;
}

export interface OperatorOptions {
  /** Run the bundle (dist/operator.mjs) instead of the sources through tsx. */
  bundle?: boolean;
  /** Talk to the apiserver through this kubeconfig instead of the sandbox's admin one (a proxy). */
  kubeconfig?: string;
  /** More command-line flags (leader election…). */
  extraArgs?: string[];
  /** More environment (POD_NAME as the leader-election identity…). */
  env?: Record<string, string>;
}

export interface SqueueRow {
  id: string;
  state: string;
  comment: string;
  workDir: string;
  name: string;
}

export class E2eEnvironment {
  readonly hpc: HpcSandbox;
  readonly kube: KubeSandbox;
  readonly workDir: string;
  readonly clusterName = 'sandbox';
  readonly secretName = 'sandbox-ssh';
  readonly logDir: string;
  operator: OperatorProcess | undefined;
  /** Every operator process started, so tearDown stops them all (two replicas in the failover test). */
  private readonly operators: OperatorProcess[] = [];
  private operatorRuns = 0;

  constructor(readonly namespace: string) {
    const sandbox = readSandbox();
    this.hpc = requireHpc(sandbox);
    this.kube = requireKube(sandbox);
    this.workDir = posix.join(this.hpc.workDir, `e2e-${namespace}`);
    this.logDir = mkdtempSync(join(tmpdir(), `ibo-e2e-${namespace}-`));
  }

  /** CRDs installed, bundles built, namespace + Secret + SlurmCluster applied. Idempotent. */
  async setUp(options: { monitoring?: boolean } = {}): Promise<void> {
    buildBundles();
    await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', join(ROOT, 'crds', 'yaml')]);
    await kubectlOk([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/inferencebenchmarks.hpcbench.io',
      'crd/slurmclusters.hpcbench.io',
    ]);
    const created = await kubectl(['create', 'namespace', this.namespace]);
    if (created.code !== 0 && !created.stderr.includes('AlreadyExists')) throw new Error(created.stderr);
    await this.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: this.secretName, namespace: this.namespace },
      type: 'Opaque',
      stringData: {
        privateKey: readFileSync(this.hpc.ssh.privateKeyPath, 'utf8'),
        knownHosts: readFileSync(this.hpc.ssh.knownHostsPath, 'utf8'),
      },
    });
    await this.apply(this.slurmClusterManifest(options.monitoring ?? true));
  }

  slurmClusterManifest(monitoring: boolean): Record<string, unknown> {
    return {
      apiVersion: 'hpcbench.io/v1alpha1',
      kind: 'SlurmCluster',
      metadata: { name: this.clusterName, namespace: this.namespace },
      spec: {
        host: this.hpc.ssh.host,
        port: this.hpc.ssh.port,
        user: this.hpc.ssh.user,
        sshSecretRef: { name: this.secretName },
        workDir: this.workDir,
        containerRuntime: 'native',
        defaults: { serverPartition: 'cpu', clientPartition: 'cpu' },
        monitoring: {
          enabled: monitoring,
          partition: 'cpu',
          memGB: 1,
          time: '02:00:00',
          scrapeIntervalSeconds: 5,
        },
      },
    };
  }

  /** Sets (or, with null, removes) the SlurmCluster's maxActiveBenchmarks. */
  async setMaxActiveBenchmarks(value: number | null): Promise<void> {
    await this.kubectl([
      'patch',
      'scluster',
      this.clusterName,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { maxActiveBenchmarks: value } }),
    ]);
  }

  /** A tiny benchmark: the sandbox's model, 2 clients x 2 requests, a few tokens each. */
  benchmarkManifest(
    name: string,
    overrides: Partial<InferenceBenchmarkSpecInput> = {},
  ): Record<string, unknown> {
    const spec: InferenceBenchmarkSpecInput = {
      clusterRef: { name: this.clusterName },
      model: { name: MODEL_FROM_SANDBOX() },
      slurm: { partition: 'cpu', memGB: 2, time: '00:20:00' },
      clientService: { partition: 'cpu', memGB: 1, time: '00:20:00', cpus: 1 },
      workload: {
        clients: 2,
        requestsPerClient: 2,
        maxTokens: 8,
        prompt: 'Say hello in five words.',
        requestTimeoutSeconds: 120,
      },
      ...overrides,
    };
    return {
      apiVersion: 'hpcbench.io/v1alpha1',
      kind: 'InferenceBenchmark',
      metadata: { name, namespace: this.namespace },
      spec,
    };
  }

  async apply(manifest: Record<string, unknown>): Promise<void> {
    await kubectlOk(['apply', '-f', '-'], { input: stringify(manifest) });
  }

  async kubectl(args: string[]): Promise<string> {
    return kubectlOk(['-n', this.namespace, ...args]);
  }

  async getBenchmark(name: string): Promise<BenchmarkObject | undefined> {
    const result = await kubectl(['-n', this.namespace, 'get', 'ib', name, '-o', 'json']);
    if (result.code !== 0) {
      if (result.stderr.includes('NotFound')) return undefined;
      throw new Error(result.stderr);
    }
    return JSON.parse(result.stdout) as BenchmarkObject;
  }

  /** `kubectl wait --for=condition=...`, the way a user waits. */
  async waitCondition(name: string, condition: string, timeoutSeconds: number): Promise<void> {
    const result = await kubectl([
      '-n',
      this.namespace,
      'wait',
      `--for=condition=${condition}`,
      `--timeout=${timeoutSeconds}s`,
      `ib/${name}`,
    ]);
    if (result.code !== 0) {
      const object = await this.getBenchmark(name).catch(() => undefined);
      throw new Error(
        `kubectl wait ${condition} on ${name} failed: ${result.stderr.trim()}\nstatus: ${JSON.stringify(object?.status, null, 2)}\noperator log tail:\n${this.operatorLogTail()}`,
      );
    }
  }

  async waitForBenchmark<T>(
    name: string,
    what: string,
    probe: (object: BenchmarkObject) => T | undefined,
    timeoutMs = 240_000,
  ): Promise<T> {
    return waitFor(
      `${name}: ${what}`,
      async () => {
        const object = await this.getBenchmark(name);
        return object ? probe(object) : undefined;
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }

  /** The login user's jobs as squeue shows them (every state): id, state, comment, name. */
  async squeue(): Promise<SqueueRow[]> {
    const out = await remote(this.hpc.ssh, "squeue --me --noheader --states=all --format='%i|%T|%k|%Z|%j'");
    return out
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [id = '', state = '', comment = '', workDir = '', ...name] = line.trim().split('|');
        return { id, state, comment, workDir, name: name.join('|') };
      });
  }

  /** Jobs still queued or running (squeue --states=all also lists finished ones for a few minutes). */
  static live(rows: readonly SqueueRow[]): SqueueRow[] {
    return rows.filter((job) => !isTerminal(parseJobState(job.state)));
  }

  /** Jobs of one benchmark (by the operator's tag prefix, which carries the uid). */
  async jobsOf(uid: string): Promise<SqueueRow[]> {
    return (await this.squeue()).filter((job) => job.comment.startsWith(`ibo.${uid}.`));
  }

  async startOperator(options: OperatorOptions = {}): Promise<OperatorProcess> {
    const [metricsPort, healthPort] = [await freeLocalPort(), await freeLocalPort()];
    this.operatorRuns++;
    const logFile = join(this.logDir, `operator-${this.operatorRuns}.log`);
    const out = openSync(logFile, 'a');
    const entry = options.bundle
      ? [join(ROOT, 'dist', 'operator.mjs')]
      : ['--import', 'tsx', join(ROOT, 'operator', 'main.ts')];
    const child = spawn(
      process.execPath,
      [
        ...entry,
        'operator',
        '--kubeconfig',
        options.kubeconfig ?? this.kube.kubeconfig,
        '--namespaces',
        this.namespace,
        '--metrics-bind',
        `127.0.0.1:${metricsPort}`,
        '--health-bind',
        `127.0.0.1:${healthPort}`,
        ...(options.extraArgs ?? []),
      ],
      {
        cwd: ROOT,
        stdio: ['ignore', out, out],
        env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...options.env },
      },
    );
    closeSync(out);
    const operator = {
      child,
      metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
      healthUrl: `http://127.0.0.1:${healthPort}`,
      logFile,
    };
    this.operator = operator;
    this.operators.push(operator);
    await waitFor(
      'the operator to be ready',
      async () => {
        if (child.exitCode !== null)
          throw new Error(`operator exited ${child.exitCode}: ${this.operatorLogTail()}`);
        const response = await fetch(`${operator.healthUrl}/readyz`);
        return response.ok ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    return operator;
  }

  /** SIGKILL (a crash) or SIGTERM (a clean stop); resolves once the process is gone. */
  async stopOperator(
    signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM',
    operator: OperatorProcess | undefined = this.operator,
  ): Promise<void> {
    if (!operator || operator.child.exitCode !== null || operator.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => operator.child.once('exit', () => resolve()));
    operator.child.kill(signal);
    await exited;
  }

  async metrics(): Promise<string> {
    if (!this.operator) throw new Error('no operator running');
    return (await fetch(this.operator.metricsUrl)).text();
  }

  operatorLogTail(lines = 40): string {
    if (!this.operator || !existsSync(this.operator.logFile)) return '(no operator log)';
    return readFileSync(this.operator.logFile, 'utf8').split('\n').slice(-lines).join('\n');
  }

  /** Every object of the namespace goes while the operator still runs (its finalizers cancel the jobs), then
   * whatever is left in squeue for this work dir is cancelled, and the operator stops. */
  async tearDown(): Promise<void> {
    try {
      if (this.operator && this.operator.child.exitCode === null) {
        await kubectl(['-n', this.namespace, 'delete', 'ib', '--all', '--timeout=120s']);
        await kubectl(['-n', this.namespace, 'delete', 'slurmcluster', '--all', '--timeout=60s']);
      }
    } finally {
      for (const operator of this.operators) await this.stopOperator('SIGTERM', operator);
      // Benchmarks whose finalizer could not run (operator already dead) must not keep the namespace alive.
      const left = await kubectl(['-n', this.namespace, 'get', 'ib', '-o', 'name']);
      for (const name of left.stdout.split('\n').filter((line) => line.trim() !== '')) {
        await kubectl([
          '-n',
          this.namespace,
          'patch',
          name,
          '--type=merge',
          '-p',
          '{"metadata":{"finalizers":null}}',
        ]);
      }
      await kubectl(['-n', this.namespace, 'delete', 'ib,slurmcluster', '--all', '--wait=false']);
      const ids = E2eEnvironment.live(await this.squeue())
        .filter((job) => job.workDir.startsWith(this.workDir))
        .map((job) => job.id);
      if (ids.length > 0) await remote(this.hpc.ssh, `scancel ${ids.join(' ')}`);
    }
  }
}

let bundlesBuilt = false;

/** dist/client-service.mjs (uploaded by the operator) and dist/operator.mjs, from the current sources. */
export function buildBundles(): void {
  if (bundlesBuilt) return;
  execFileSync(process.execPath, [join(ROOT, 'test', 'build-bundles.mjs')], { cwd: ROOT, stdio: 'pipe' });
  bundlesBuilt = true;
}

/** Sums every sample of one metric family, optionally only samples whose labels contain `labelText`. */
export function metricSum(text: string, name: string, labelText = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith('{') || rest.startsWith(' '))) continue;
    if (labelText && !line.includes(labelText)) continue;
    const value = Number(line.trim().split(/\s+/).pop());
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}
