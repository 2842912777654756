import * as k8s from '@kubernetes/client-node';
import {
  GROUP,
  INFERENCE_BENCHMARK_PLURAL,
  type InferenceBenchmark,
  parseInferenceBenchmark,
  RESULTS_LABELS,
  VERSION,
} from '../../crds/index.js';

/** The options every command takes, as kubectl spells them. */
export interface KubeOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

/** An error the user reads as one line (kubectl's "error: ..." or "Error from server (...): ..."). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** The apiserver's reason (NotFound, Forbidden, ...) when the error is its refusal or means the same. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export interface Kube {
  readonly config: k8s.KubeConfig;
  readonly namespace: string;
  readonly custom: k8s.CustomObjectsApi;
  readonly core: k8s.CoreV1Api;
}

/**
 * The user's kubeconfig and nothing else: KUBECONFIG or ~/.kube/config (or --kubeconfig), the current
 * context (or --context), and its namespace (or -n, else "default"), like kubectl.
 */
export function connect(options: KubeOptions): Kube {
  const config = new k8s.KubeConfig();
  try {
    if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    throw new CliError(`error: cannot load the kubeconfig: ${messageOf(error)}`);
  }
  if (options.context) {
    if (!config.getContextObject(options.context))
      throw new CliError(`error: context "${options.context}" does not exist`);
    config.setCurrentContext(options.context);
  }
  if (!config.getCurrentCluster())
    throw new CliError('error: no cluster in the kubeconfig: set KUBECONFIG, --kubeconfig or --context');
  const contextNamespace = config.getContextObject(config.getCurrentContext())?.namespace;
  return {
    config,
    namespace: options.namespace ?? contextNamespace ?? 'default',
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    core: config.makeApiClient(k8s.CoreV1Api),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

interface StatusBody {
  message?: string;
  reason?: string;
}

/**
 * An apiserver refusal as kubectl prints it: `Error from server (Forbidden): <the server's message>`. The
 * server's message names the user, verb, resource and namespace, which is all a person needs.
 */
export function fromApiError(error: unknown, what: string): CliError {
  if (error instanceof k8s.ApiException) {
    let body: StatusBody = {};
    try {
      body = (typeof error.body === 'string' ? JSON.parse(error.body) : error.body) as StatusBody;
    } catch {
      // Not a Status object (a proxy's HTML page): the code says enough.
    }
    const reason =
      body?.reason ??
      (error.code === 404 ? 'NotFound' : error.code === 403 ? 'Forbidden' : `HTTP ${error.code}`);
    const message = body?.message ?? `${what}: HTTP ${error.code}`;
    return new CliError(`Error from server (${reason}): ${message}`, 1, reason);
  }
  if (error instanceof CliError) return error;
  return new CliError(`error: ${what}: ${messageOf(error)}`);
}

/** `ib/NAME`, `inferencebenchmark/NAME`, `inferencebenchmarks.hpcbench.io/NAME` or a bare NAME. */
export function benchmarkName(target: string): string {
  const slash = target.indexOf('/');
  if (slash < 0) return target;
  const kind = target.slice(0, slash).toLowerCase();
  const known = ['ib', 'ibench', 'inferencebenchmark', 'inferencebenchmarks', `inferencebenchmarks.${GROUP}`];
  if (!known.includes(kind))
    throw new CliError(`error: ${target}: only InferenceBenchmarks can be named here (ib/NAME)`);
  const name = target.slice(slash + 1);
  if (!name) throw new CliError(`error: ${target}: the name is missing (ib/NAME)`);
  return name;
}

export async function getBenchmark(kube: Kube, name: string): Promise<InferenceBenchmark> {
  let object: unknown;
  try {
    object = await kube.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: kube.namespace,
      plural: INFERENCE_BENCHMARK_PLURAL,
      name,
    });
  } catch (error) {
    throw fromApiError(error, `inferencebenchmarks.${GROUP} "${name}"`);
  }
  const parsed = parseInferenceBenchmark(object);
  if (!parsed.ok)
    throw new CliError(
      `error: inferencebenchmark "${name}" does not read as ${GROUP}/${VERSION}: ${parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
    );
  return parsed.value;
}

/** The benchmark, or undefined when it is gone (its results ConfigMap may be retained). */
export async function getBenchmarkIfExists(
  kube: Kube,
  name: string,
): Promise<InferenceBenchmark | undefined> {
  try {
    return await getBenchmark(kube, name);
  } catch (error) {
    if (error instanceof CliError && error.reason === 'NotFound') return undefined;
    throw error;
  }
}

export async function getConfigMap(kube: Kube, name: string): Promise<k8s.V1ConfigMap> {
  try {
    return await kube.core.readNamespacedConfigMap({ namespace: kube.namespace, name });
  } catch (error) {
    throw fromApiError(error, `configmaps "${name}"`);
  }
}

/** The newest results ConfigMap labelled with the benchmark's name: how a retained one is found after delete. */
export async function findResultsConfigMap(
  kube: Kube,
  benchmark: string,
): Promise<k8s.V1ConfigMap | undefined> {
  let list: k8s.V1ConfigMapList;
  try {
    list = await kube.core.listNamespacedConfigMap({
      namespace: kube.namespace,
      labelSelector: `${RESULTS_LABELS.benchmark}=${benchmark}`,
    });
  } catch (error) {
    throw fromApiError(error, `configmaps -l ${RESULTS_LABELS.benchmark}=${benchmark}`);
  }
  const created = (cm: k8s.V1ConfigMap) => new Date(cm.metadata?.creationTimestamp ?? 0).getTime();
  return [...list.items].sort((a, b) => created(b) - created(a))[0];
}
