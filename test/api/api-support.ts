import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { CRD_OUTPUT_DIRS } from '../../crds/crd-files.js';
import { allCrds } from '../../crds/definitions.js';
import { adminKubeConfig, uniqueName } from '../support/kube.js';
import { type CliResult, kubectl, kubectlOk } from '../support/kube-cli.js';

/** Helpers shared by the API tests: CRD install, a fresh namespace per file, and verdicts from the apiserver. */

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const crdYamlDir = join(repoRoot, CRD_OUTPUT_DIRS[0]);
export const recipesDir = join(repoRoot, 'recipes');

/**
 * Applies the committed CRD YAML (what a user applies) and waits until both are Established. CRDs are never
 * deleted: other test files share the apiserver, and an apply of the same YAML is a no-op.
 */
export async function installCrds(): Promise<void> {
  await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', crdYamlDir]);
  for (const crd of allCrds()) {
    await kubectlOk(['wait', '--for=condition=Established', `crd/${crd.metadata.name}`, '--timeout=60s']);
  }
}

/** A namespace no other run used (namespaces never finish deleting in the sandbox: no controller-manager). */
export async function freshNamespace(prefix: string): Promise<string> {
  const namespace = uniqueName(prefix);
  await kubectlOk(['create', 'namespace', namespace]);
  return namespace;
}

/** `kubectl apply` of one object given as JSON; resolves with the result instead of throwing. */
export function kubectlApply(
  object: unknown,
  namespace: string,
  extraArgs: string[] = [],
): Promise<CliResult> {
  return kubectl(['apply', '-n', namespace, ...extraArgs, '-f', '-'], { input: JSON.stringify(object) });
}

export type ApiVerdict =
  | { accepted: true; stored: Record<string, unknown> }
  | { accepted: false; message: string };

/**
 * Asks the apiserver whether it would create `object` (dry run, strict field validation as kubectl uses by
 * default) and returns the object it would store: defaults applied, unknown fields refused.
 */
export async function dryRunCreate(
  api: k8s.CustomObjectsApi,
  namespace: string,
  plural: string,
  object: Record<string, unknown>,
): Promise<ApiVerdict> {
  try {
    const stored = (await api.createNamespacedCustomObject({
      group: 'hpcbench.io',
      version: 'v1alpha1',
      namespace,
      plural,
      body: object,
      dryRun: 'All',
      fieldValidation: 'Strict',
    })) as Record<string, unknown>;
    return { accepted: true, stored };
  } catch (error) {
    if (error instanceof k8s.ApiException && (error.code === 422 || error.code === 400)) {
      return { accepted: false, message: String(error.body) };
    }
    throw error;
  }
}

export function customObjectsApi(): k8s.CustomObjectsApi {
  return adminKubeConfig().makeApiClient(k8s.CustomObjectsApi);
}
