import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { type KubeSandbox, requireKube } from '../sandbox/description.js';

/**
 * Credentials for the sandbox's kube-apiserver. The admin identity is a client certificate in
 * system:masters; other identities are ServiceAccount tokens minted through the TokenRequest API, so a test
 * runs code under exactly the RBAC a real deployment would have.
 */

export function adminKubeConfig(kube: KubeSandbox = requireKube()): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  return kc;
}

/**
 * A DNS-1123 name that no earlier run used: without a controller-manager nothing is garbage-collected and
 * namespaces never finish deleting, so tests never reuse names.
 */
export function uniqueName(prefix: string): string {
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return `${prefix.slice(0, 63 - suffix.length - 1)}-${suffix}`;
}

function isConflict(error: unknown): boolean {
  return error instanceof k8s.ApiException && error.code === 409;
}

/** Creates the ServiceAccount unless it exists; the namespace must exist. */
export async function ensureServiceAccount(
  admin: k8s.KubeConfig,
  namespace: string,
  name: string,
): Promise<void> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
}

/** Mints a bound token for the ServiceAccount (creating it when missing), like `kubectl create token`. */
export async function mintServiceAccountToken(
  admin: k8s.KubeConfig,
  namespace: string,
  name: string,
  expirationSeconds = 3600,
): Promise<string> {
  await ensureServiceAccount(admin, namespace, name);
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const request = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = request.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

/** A kubeconfig for the same cluster (server and CA) as `admin`, authenticating with a bearer token. */
export function kubeConfigForToken(admin: k8s.KubeConfig, token: string, userName: string): k8s.KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no current cluster');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: userName, token }],
    contexts: [{ name: userName, cluster: cluster.name, user: userName, namespace: 'default' }],
    currentContext: userName,
  });
  return kc;
}

/**
 * Writes a kubeconfig to a fresh private folder (mode 0600) for kubectl, helm or a child process, and
 * returns its path. The caller removes the folder.
 */
export function writeKubeConfigFile(kc: k8s.KubeConfig): string {
  const dir = mkdtempSync(join(tmpdir(), 'ibo-kubeconfig-'));
  const file = join(dir, 'kubeconfig');
  writeFileSync(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}
