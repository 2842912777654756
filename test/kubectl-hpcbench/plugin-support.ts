import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { type E2eEnvironment, ROOT } from '../e2e/environment.js';
import {
  adminKubeConfig,
  kubeConfigForToken,
  mintServiceAccountToken,
  writeKubeConfigFile,
} from '../support/kube.js';

/**
 * The plugin as a user installs it: dist/kubectl-hpcbench.mjs copied to a folder on the PATH under the name
 * kubectl looks for, run through `kubectl hpcbench ...`. And a reader: a ServiceAccount that may read
 * benchmarks and their results in the test's namespace, and nothing else.
 */
export class InstalledPlugin {
  readonly dir = mkdtempSync(join(tmpdir(), 'ibo-plugin-bin-'));

  /** Copies the bundle that buildBundles() (in E2eEnvironment.setUp) wrote. */
  constructor(private readonly env: E2eEnvironment) {
    copyFileSync(join(ROOT, 'dist', 'kubectl-hpcbench.mjs'), join(this.dir, 'kubectl-hpcbench'));
    chmodSync(join(this.dir, 'kubectl-hpcbench'), 0o755);
  }

  /** `kubectl hpcbench ARGS` as KUBECONFIG's user (the admin's unless given). */
  spawn(
    args: string[],
    kubeconfig = this.env.kube.kubeconfig,
  ): ChildProcessByStdio<null, Readable, Readable> {
    return spawn(this.env.kube.kubectl, ['hpcbench', ...args], {
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        PATH: `${this.dir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Role and RoleBinding in env.namespace for ServiceAccount "reader": get/list/watch on `resources` of
 * hpcbench.io and get/list on configmaps. Returns a kubeconfig file with the reader's token.
 */
export async function benchmarkReader(env: E2eEnvironment, resources: string[]): Promise<string> {
  await env.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'benchmark-reader', namespace: env.namespace },
    rules: [
      { apiGroups: ['hpcbench.io'], resources, verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] },
    ],
  });
  await env.apply({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'benchmark-reader', namespace: env.namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'benchmark-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: env.namespace }],
  });
  const admin = adminKubeConfig(env.kube);
  const token = await mintServiceAccountToken(admin, env.namespace, 'reader');
  return writeKubeConfigFile(kubeConfigForToken(admin, token, 'reader'));
}
