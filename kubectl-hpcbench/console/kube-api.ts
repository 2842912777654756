import * as k8s from '@kubernetes/client-node';
import { inferenceBenchmarkCrd } from '../../crds/definitions.js';
import {
  GROUP,
  INFERENCE_BENCHMARK_KIND,
  INFERENCE_BENCHMARK_PLURAL,
  RESULTS_LOG_ROLES,
  type ResultsLogRole,
  type SLURM_CLUSTER_PLURAL,
  VERSION,
} from '../../crds/index.js';
import { CliError, type Kube } from '../cli/kube.js';
import type { ApiRefusal } from './refusal.js';

/**
 * What the console asks the apiserver, always as the user (their kubeconfig identity): the answer, or the
 * apiserver's refusal as it gave it (status code, reason, message and the causes naming each bad field).
 */

export class ConsoleError extends Error {
  constructor(readonly refusal: ApiRefusal) {
    super(refusal.message);
  }
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: { field?: string; message?: string }[] };
}

/** The HTTP status of the apiserver reasons the plugin's errors carry (metav1.StatusReason). */
const STATUS_OF_REASON: Record<string, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  AlreadyExists: 409,
  Conflict: 409,
  Invalid: 422,
};

export function refusalOf(error: unknown, what: string): ApiRefusal {
  if (error instanceof ConsoleError) return error.refusal;
  if (error instanceof k8s.ApiException) {
    let body: StatusBody = {};
    try {
      body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as StatusBody;
    } catch {
      // Not a Status object: the code says enough.
    }
    return {
      status: error.code,
      reason: body?.reason ?? `HTTP ${error.code}`,
      message: body?.message ?? `${what}: HTTP ${error.code}`,
      causes: body?.details?.causes ?? [],
    };
  }
  if (error instanceof CliError) {
    const reason = error.reason ?? 'BadRequest';
    return {
      status: STATUS_OF_REASON[reason] ?? 400,
      reason,
      message: error.message.replace(/^error: /, ''),
      causes: [],
    };
  }
  return {
    status: 502,
    reason: 'Unreachable',
    message: `${what}: ${error instanceof Error ? error.message : String(error)}`,
    causes: [],
  };
}

export function inNamespace(kube: Kube, namespace: string): Kube {
  return { ...kube, namespace };
}

export type Plural = typeof INFERENCE_BENCHMARK_PLURAL | typeof SLURM_CLUSTER_PLURAL;

export async function listObjects(
  kube: Kube,
  plural: Plural,
): Promise<{ items: unknown[]; resourceVersion: string }> {
  try {
    const list = (await kube.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: kube.namespace,
      plural,
    })) as { items?: unknown[]; metadata?: { resourceVersion?: string } };
    return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
  } catch (error) {
    throw new ConsoleError(refusalOf(error, `${plural}.${GROUP}`));
  }
}

/**
 * Creates an InferenceBenchmark, or with `dryRun` asks the apiserver to check it as `kubectl apply
 * --dry-run=server` does: the schema, every CEL rule and admission, with nothing stored. The answer is the
 * object as it would be stored (defaults filled in); the page shows the YAML it sends.
 */
export async function createBenchmark(
  kube: Kube,
  body: unknown,
  dryRun: boolean,
): Promise<{ object: unknown }> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ConsoleError({
      status: 400,
      reason: 'BadRequest',
      message: 'the body must be one object',
      causes: [],
    });
  const object = {
    ...(body as Record<string, unknown>),
    apiVersion: `${GROUP}/${VERSION}`,
    kind: INFERENCE_BENCHMARK_KIND,
  };
  try {
    const created = await kube.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: kube.namespace,
      plural: INFERENCE_BENCHMARK_PLURAL,
      body: object,
      ...(dryRun ? { dryRun: 'All' } : {}),
      fieldManager: 'kubectl-hpcbench-console',
    });
    return { object: created };
  } catch (error) {
    throw new ConsoleError(refusalOf(error, `inferencebenchmarks.${GROUP}`));
  }
}

export async function deleteBenchmark(kube: Kube, name: string): Promise<void> {
  try {
    await kube.custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: kube.namespace,
      plural: INFERENCE_BENCHMARK_PLURAL,
      name,
    });
  } catch (error) {
    throw new ConsoleError(refusalOf(error, `inferencebenchmarks.${GROUP} "${name}"`));
  }
}

export function logRole(value: string | undefined): ResultsLogRole {
  const role = value ?? 'server';
  if (!(RESULTS_LOG_ROLES as readonly string[]).includes(role))
    throw new ConsoleError({
      status: 400,
      reason: 'BadRequest',
      message: `role must be one of ${RESULTS_LOG_ROLES.join(', ')}, got "${role}"`,
      causes: [],
    });
  return role as ResultsLogRole;
}

/** The wizard's schema: spec's OpenAPI v3 schema of the CRD this plugin was built with, descriptions included. */
export function benchmarkSpecSchema(): unknown {
  const crd = inferenceBenchmarkCrd();
  const version = crd.spec.versions.find((v) => v.name === VERSION) ?? crd.spec.versions[0];
  const root = version?.schema.openAPIV3Schema as { properties?: Record<string, unknown> } | undefined;
  return root?.properties?.spec;
}
