import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shellJoin, shellQuote } from '../../slurm-bridge/shell/quote.js';
import { restartSshd } from '../bridge/sshd-control.js';
import { type HpcSandbox, readSandbox } from '../sandbox/description.js';
import { uniqueName } from '../support/kube.js';
import { remote } from '../support/ssh.js';
import { ThrottledProxy } from '../support/throttled-proxy.js';
import { GiveUp } from '../support/wait.js';
import { type BenchmarkObject, E2E_TEST_TIMEOUT_MS, E2eEnvironment } from './environment.js';

/**
 * The server job pulls its model itself (docs/architecture.md#state-rules), from the sandbox's registry
 * over plain HTTP (`insecureRegistry`). The pulled model is the registry's `freshModel`: the sandbox's
 * gemma3:270m under another model blob. Ollama skips every blob whose digest is already in the models dir,
 * so pulling gemma3:270m itself (under any name, even with its manifest deleted) would move only a
 * manifest; the fresh blob is in no models dir (the test deletes it before and after), so its 253 MB really
 * travel, through a proxy that slows them to 4 MB/s: long enough to drop the operator's SSH connection in
 * the middle.
 */
const env = new E2eEnvironment(uniqueName('e2e-pull'));
const BYTES_PER_SECOND = 4_000_000;
const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

function registryOf(hpc: HpcSandbox): NonNullable<HpcSandbox['registry']> {
  if (!hpc.registry) throw new Error('the sandbox has no registry: run `bash test/sandbox/sandbox up`');
  return hpc.registry;
}

/** The digests of a `repository:tag` in the sandbox's registry (layers and config). */
async function digestsOf(registry: NonNullable<HpcSandbox['registry']>, model: string) {
  const [repository, tag] = model.split(':');
  const url = `http://${registry.host}:${registry.port}/v2/${repository}/manifests/${tag}`;
  const response = await fetch(url, { headers: { accept: MANIFEST_V2 } });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  const manifest = (await response.json()) as {
    config: { digest: string };
    layers: { digest: string; size: number }[];
  };
  return {
    digests: [manifest.config.digest, ...manifest.layers.map((l) => l.digest)],
    layers: manifest.layers,
  };
}

/**
 * The fresh model out of the user's models dir: its manifests under every registry host:port a run named,
 * and its own blobs (gemma3:270m's are never touched).
 */
async function forgetFreshModel(): Promise<void> {
  const registry = registryOf(env.hpc);
  const fresh = await digestsOf(registry, registry.freshModel);
  const base = new Set((await digestsOf(registry, registry.model)).digests);
  const blobs = fresh.digests
    .filter((digest) => !base.has(digest))
    .map((digest) => `${env.hpc.ollama.modelsDir}/blobs/${digest.replace(':', '-')}`);
  const repository = registry.freshModel.split(':')[0] ?? registry.freshModel;
  const manifests = `${shellQuote(`${env.hpc.ollama.modelsDir}/manifests`)}/*/${shellQuote(repository)}`;
  await remote(env.hpc.ssh, `${shellJoin(['rm', '-f', '--', ...blobs])} && rm -rf -- ${manifests}`);
}

function modelCondition(object: BenchmarkObject) {
  return object.status?.conditions?.find((c) => c.type === 'OllamaModelLoaded');
}

function percentOf(message: string | undefined): number | undefined {
  const match = /: (\d+)% \(/.exec(message ?? '');
  return match ? Number(match[1]) : undefined;
}

/** A run that ended already cannot show what the probe waits for. */
function giveUpWhenSettled(object: BenchmarkObject): void {
  const phase = object.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed')
    throw new GiveUp(`the run already ended ${phase}: ${JSON.stringify(object.status?.conditions)}`);
}

let proxy: ThrottledProxy;

beforeAll(async () => {
  const registry = registryOf(env.hpc);
  proxy = await ThrottledProxy.start(registry, BYTES_PER_SECOND);
  await forgetFreshModel();
  await env.setUp({ monitoring: false });
  await env.startOperator();
});

afterAll(async () => {
  await env.tearDown();
  await proxy?.close();
  await forgetFreshModel();
});

describe('a model pulled by the server job from a registry on the cluster network', () => {
  it(
    'keeps pulling when the login node drops the operator, and the run completes with results',
    async () => {
      const registry = registryOf(env.hpc);
      const model = `127.0.0.1:${proxy.port}/${registry.freshModel}`;
      const { layers } = await digestsOf(registry, registry.freshModel);
      await env.apply(env.benchmarkManifest('pulled', { model: { name: model, insecureRegistry: true } }));

      const before = await env.waitForBenchmark('pulled', 'the pull to show progress', (object) => {
        giveUpWhenSettled(object);
        const condition = modelCondition(object);
        const percent = percentOf(condition?.message);
        return condition?.reason === 'ModelPulling' && percent !== undefined && percent < 50
          ? { message: condition.message, percent, jobs: object.status?.slurmJobs }
          : undefined;
      });
      expect(before.message).toContain(`pulling ${model}: `);
      expect(before.message).toMatch(/: \d+% \(\d+ of 253 MB\)/);

      const blobBytes = layers.reduce((sum, layer) => sum + layer.size, 0);
      await restartSshd(env.hpc, readSandbox().stateDir);
      // The drop came in the middle of the transfer, not after it.
      expect(proxy.bytesDown).toBeLessThan(blobBytes);

      // The operator reconnects and reads further progress of the same pull, still going.
      const after = await env.waitForBenchmark('pulled', 'progress after the drop', (object) => {
        giveUpWhenSettled(object);
        const condition = modelCondition(object);
        if (condition?.status === 'True')
          throw new GiveUp('the model was loaded before the operator saw the pull go on after the drop');
        const percent = percentOf(condition?.message);
        return percent !== undefined && percent > before.percent ? percent : undefined;
      });
      expect(after).toBeGreaterThan(before.percent);

      await env.waitCondition('pulled', 'BenchmarkComplete', 720);
      const done = await env.getBenchmark('pulled');
      expect(done?.status?.phase).toBe('Succeeded');
      expect(done?.status?.results?.counts.succeeded).toBe(4);
      expect(modelCondition(done as BenchmarkObject)?.message).toContain(`${model} is loaded`);
      // One server job pulled it all (none was submitted again), and the blob really came through the proxy.
      expect(await env.jobsOf(done?.metadata.uid ?? '')).toHaveLength(2);
      expect(proxy.bytesDown).toBeGreaterThanOrEqual(blobBytes);
    },
    E2E_TEST_TIMEOUT_MS,
  );

  it(
    "fails with ModelPullFailed naming the model and Ollama's error when the registry lacks it",
    async () => {
      const registry = registryOf(env.hpc);
      const model = `${registry.host}:${registry.port}/library/nosuchmodel:1`;
      await env.apply(env.benchmarkManifest('missing', { model: { name: model, insecureRegistry: true } }));
      const failed = await env.waitForBenchmark(
        'missing',
        'the run to fail',
        (object) => {
          if (object.status?.phase === 'Succeeded') throw new GiveUp('the run succeeded');
          return object.status?.phase === 'Failed' ? object : undefined;
        },
        300_000,
      );
      const ready = failed.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.reason).toBe('ModelPullFailed');
      expect(ready?.message).toContain(`pulling ${model} failed: pull model manifest: `);
    },
    E2E_TEST_TIMEOUT_MS,
  );
});
