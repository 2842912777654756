import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSandbox } from '../sandbox/description.js';
import {
  adminKubeConfig,
  kubeConfigForToken,
  mintServiceAccountToken,
  uniqueName,
  writeKubeConfigFile,
} from '../support/kube.js';
import { kubectl } from '../support/kube-cli.js';

const namespace = 'default';
const admin = adminKubeConfig();
const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
const core = admin.makeApiClient(k8s.CoreV1Api);
const serviceAccount = uniqueName('limited');
const role = uniqueName('configmap-reader');
const kubeShell = join(dirname(fileURLToPath(import.meta.url)), '../sandbox/lib/kube.sh');

let limited: k8s.KubeConfig;
let limitedKubeconfig: string;

async function canI(kubeconfig: string | undefined, ...args: string[]): Promise<string> {
  const result = await kubectl(['auth', 'can-i', ...args], kubeconfig ? { kubeconfig } : {});
  // can-i answers on stdout and exits 0 for yes, 1 for no; anything else is a failure of the check itself.
  if (result.code !== 0 && result.code !== 1) throw new Error(`kubectl auth can-i failed: ${result.stderr}`);
  return `${result.stdout.trim()} (exit ${result.code})`;
}

describe('RBAC: the admin and a limited ServiceAccount are told apart', () => {
  beforeAll(async () => {
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: role },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    const token = await mintServiceAccountToken(admin, namespace, serviceAccount, 600);
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: role },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
        subjects: [{ kind: 'ServiceAccount', name: serviceAccount, namespace }],
      },
    });
    limited = kubeConfigForToken(admin, token, serviceAccount);
    limitedKubeconfig = writeKubeConfigFile(limited);
  });

  afterAll(async () => {
    rmSync(dirname(limitedKubeconfig), { recursive: true, force: true });
    await rbac.deleteNamespacedRoleBinding({ namespace, name: role });
    await rbac.deleteNamespacedRole({ namespace, name: role });
    await core.deleteNamespacedServiceAccount({ namespace, name: serviceAccount });
  });

  it('kubectl auth can-i says yes to the admin for everything', async () => {
    expect(await canI(undefined, '*', '*', '--all-namespaces')).toBe('yes (exit 0)');
  });

  it('kubectl auth can-i gives the ServiceAccount exactly what its Role grants', async () => {
    expect(await canI(limitedKubeconfig, 'list', 'configmaps', '-n', namespace)).toBe('yes (exit 0)');
    expect(await canI(limitedKubeconfig, 'delete', 'configmaps', '-n', namespace)).toBe('no (exit 1)');
    expect(await canI(limitedKubeconfig, 'get', 'secrets', '-n', namespace)).toBe('no (exit 1)');
    expect(await canI(limitedKubeconfig, 'list', 'configmaps', '-n', 'kube-system')).toBe('no (exit 1)');
  });

  it('the API answers the ServiceAccount 403 outside its Role and 200 inside it', async () => {
    const asLimited = limited.makeApiClient(k8s.CoreV1Api);
    await expect(asLimited.listNamespacedConfigMap({ namespace })).resolves.toHaveProperty('items');
    const forbidden = await asLimited.listNamespacedSecret({ namespace }).then(
      () => 200,
      (error: unknown) => (error instanceof k8s.ApiException ? error.code : error),
    );
    expect(forbidden).toBe(403);
  });

  it('`kube.sh token` mints a token that authenticates as that ServiceAccount', async () => {
    // The script reads the state folder from IBO_SANDBOX_DIR; take it from the description the tests use.
    const env = { ...process.env, IBO_SANDBOX_DIR: readSandbox().stateDir };
    const { stdout: token } = await promisify(execFile)(
      'bash',
      [kubeShell, 'token', namespace, serviceAccount, '600'],
      { env },
    );
    const file = writeKubeConfigFile(kubeConfigForToken(admin, token.trim(), 'from-script'));
    try {
      const result = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
        kubeconfig: file,
      });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe(`system:serviceaccount:${namespace}:${serviceAccount}`);
    } finally {
      rmSync(dirname(file), { recursive: true, force: true });
    }
  });
});
