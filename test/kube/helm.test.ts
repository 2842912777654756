import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { requireKube } from '../sandbox/description.js';
import { adminKubeConfig, uniqueName } from '../support/kube.js';
import { helm, kubectlOk } from '../support/kube-cli.js';

const chart = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/trivial-chart');
const namespace = 'default';
const kube = requireKube();
const core = adminKubeConfig(kube).makeApiClient(k8s.CoreV1Api);
// helm's cache, config and data folders are private to this run.
const home = mkdtempSync(join(tmpdir(), 'ibo-helm-'));

async function helmOk(args: string[]): Promise<string> {
  const result = await helm(args, { home });
  if (result.code !== 0)
    throw new Error(`helm ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

async function configMapExists(name: string): Promise<boolean> {
  return core.readNamespacedConfigMap({ namespace, name }).then(
    () => true,
    (error: unknown) => {
      if (error instanceof k8s.ApiException && error.code === 404) return false;
      throw error;
    },
  );
}

describe('helm against the sandbox apiserver', () => {
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it('lints the trivial chart at the sandbox Kubernetes version', async () => {
    const output = await helmOk(['lint', chart, '--kube-version', kube.version]);
    expect(output).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('templates the chart with --set, and kubectl apply creates exactly what was rendered', async () => {
    const release = uniqueName('tpl');
    const manifest = await helmOk([
      'template',
      release,
      chart,
      '--namespace',
      namespace,
      '--kube-version',
      kube.version,
      '--set',
      'greeting=from-template',
    ]);
    const applied = await kubectlOk(['apply', '-f', '-'], { input: manifest });
    try {
      expect(applied).toContain(`configmap/${release}-trivial created`);
      expect(applied).toContain(`serviceaccount/${release}-trivial created`);
      const configMap = await core.readNamespacedConfigMap({ namespace, name: `${release}-trivial` });
      expect(configMap.data).toEqual({ greeting: 'from-template' });
      expect(configMap.metadata?.labels?.['app.kubernetes.io/instance']).toBe(release);
    } finally {
      await kubectlOk(['delete', '-f', '-', '--wait=true'], { input: manifest });
    }
    expect(await configMapExists(`${release}-trivial`)).toBe(false);
  });

  it('installs and uninstalls a release, which keeps its record in the cluster', async () => {
    const release = uniqueName('rel');
    await helmOk(['install', release, chart, '--namespace', namespace, '--set', 'greeting=installed']);
    try {
      const status = JSON.parse(
        await helmOk(['status', release, '--namespace', namespace, '-o', 'json']),
      ) as {
        info: { status: string };
      };
      expect(status.info.status).toBe('deployed');
      const configMap = await core.readNamespacedConfigMap({ namespace, name: `${release}-trivial` });
      expect(configMap.data).toEqual({ greeting: 'installed' });
    } finally {
      await helmOk(['uninstall', release, '--namespace', namespace, '--wait']);
    }
    expect(await configMapExists(`${release}-trivial`)).toBe(false);
  });
});
