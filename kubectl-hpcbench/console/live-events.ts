import * as k8s from '@kubernetes/client-node';
import { GROUP, INFERENCE_BENCHMARK_PLURAL, SLURM_CLUSTER_PLURAL, VERSION } from '../../crds/index.js';
import type { Kube } from '../cli/kube.js';
import { listObjects, type Plural, refusalOf } from './kube-api.js';

/**
 * The console's live view of one namespace, as server-sent events: a `snapshot` of each kind (list), then
 * every `change` the apiserver's watch reports, as the user. A watch that ends (the apiserver closes watches
 * after a while, or the connection drops) is listed and watched again with a new snapshot, so the page never
 * misses a change; a refusal (RBAC) is sent once as `refusal` and the stream stays open without retrying.
 */

export interface EventSink {
  send(event: string, data: unknown): void;
  readonly closed: boolean;
}

const PLURALS: Plural[] = [INFERENCE_BENCHMARK_PLURAL, SLURM_CLUSTER_PLURAL];
const RETRY_MS = [1_000, 2_000, 5_000, 10_000];

export function streamNamespace(kube: Kube, sink: EventSink, signal: AbortSignal): void {
  for (const plural of PLURALS) void followKind(kube, plural, sink, signal);
}

async function followKind(kube: Kube, plural: Plural, sink: EventSink, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted && !sink.closed) {
    let resourceVersion: string;
    try {
      const list = await listObjects(kube, plural);
      sink.send('snapshot', { plural, items: list.items });
      resourceVersion = list.resourceVersion;
      failures = 0;
    } catch (error) {
      const refusal = refusalOf(error, plural);
      sink.send('refusal', { plural, ...refusal });
      if (refusal.status === 403 || refusal.status === 401 || refusal.status === 404) return;
      await pause(RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)] ?? 10_000, signal);
      continue;
    }
    const started = Date.now();
    await watchOnce(kube, plural, resourceVersion, sink, signal);
    // A watch that ends at once (a proxy, a broken connection) must not turn into a loop of lists.
    if (Date.now() - started < 1_000)
      await pause(RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)] ?? 10_000, signal);
  }
}

function watchOnce(
  kube: Kube,
  plural: Plural,
  resourceVersion: string,
  sink: EventSink,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const watch = new k8s.Watch(kube.config);
    let request: AbortController | undefined;
    const stop = () => request?.abort();
    signal.addEventListener('abort', stop, { once: true });
    const finish = () => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    watch
      .watch(
        `/apis/${GROUP}/${VERSION}/namespaces/${kube.namespace}/${plural}`,
        { resourceVersion, allowWatchBookmarks: false },
        (type: string, object: unknown) => {
          // A 410 Gone arrives as an ERROR event: end, list again.
          if (type === 'ERROR') {
            stop();
            return;
          }
          sink.send('change', { plural, type, object });
        },
        () => finish(),
      )
      .then(
        (controller) => {
          request = controller;
          if (signal.aborted) controller.abort();
        },
        (error: unknown) => {
          sink.send('refusal', { plural, ...refusalOf(error, plural) });
          finish();
        },
      );
  });
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
