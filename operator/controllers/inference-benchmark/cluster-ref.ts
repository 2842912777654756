import { keyToString } from '../../runtime/reconciler.js';

/**
 * spec.clusterRef.name of a benchmark whose spec may not be validated yet (the informer's object, a
 * benchmark being deleted): undefined when it is not a string.
 */
export function clusterRefName(object: { spec?: unknown }): string | undefined {
  const spec = object.spec;
  if (typeof spec !== 'object' || spec === null) return undefined;
  const ref = (spec as { clusterRef?: { name?: unknown } }).clusterRef;
  return typeof ref?.name === 'string' ? ref.name : undefined;
}

/** namespace/name of the SlurmCluster a benchmark of `namespace` names: the registry's and admission's key. */
export function clusterKey(namespace: string, clusterName: string): string {
  return keyToString({ namespace, name: clusterName });
}
