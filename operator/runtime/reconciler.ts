import type { Logger } from 'pino';

/**
 * The contract between the runtime and a controller (after controller-runtime's pkg/reconcile):
 * a request is only namespace/name, never the event, so reconciles are level-triggered.
 * - resolve with nothing: done until the object (or something it watches) changes;
 * - resolve with `requeueAfterMs`: look again later, because something outside Kubernetes (SLURM) moves;
 * - throw: retry with per-key exponential backoff;
 * - throw a `TerminalError`: report it and do not retry (an invalid spec will not fix itself).
 */
export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** Child logger carrying {controller, namespace, name}. */
  log: Logger;
  /** Aborted on shutdown; long waits inside a reconcile should honour it. */
  signal: AbortSignal;
}

export interface Reconciler {
  reconcile(key: ObjectKey, context: ReconcileContext): Promise<ReconcileResult | undefined>;
}

/** An error that retrying cannot fix. `reason` is CamelCase, for a condition or an Event. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  constructor(
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isTerminalError(error: unknown): error is TerminalError {
  return error instanceof TerminalError;
}

export function keyToString(key: ObjectKey): string {
  return key.namespace === '' ? key.name : `${key.namespace}/${key.name}`;
}

export function keyFromString(text: string): ObjectKey {
  const slash = text.indexOf('/');
  if (slash < 0) return { namespace: '', name: text };
  return { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
}

export function keyOf(object: { metadata?: { namespace?: string; name?: string } }): string {
  return keyToString({ namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' });
}

/** metadata.creationTimestamp in ms (the informer holds the apiserver's string); 0 when absent. */
export function createdAtMs(object: { metadata?: { creationTimestamp?: unknown } }): number {
  return Date.parse(String(object.metadata?.creationTimestamp ?? '')) || 0;
}
