import type { SlurmClusterSpec } from '../../../crds/index.js';

/**
 * Two SlurmClusters that reach the same login user and work dir would both run a monitoring job and
 * overwrite each other's monitoring/endpoints.json and Prometheus targets. The oldest keeps the work dir;
 * the others are told to pick their own.
 */
export interface WorkDirClaim {
  /** namespace/name */
  readonly key: string;
  readonly createdAt: number;
  readonly spec: Pick<SlurmClusterSpec, 'host' | 'port' | 'user' | 'workDir'>;
  /** The absolute work dir once a session resolved it; relative specs compare as written until then. */
  readonly resolvedWorkDir?: string;
}

/** The claim that owns `self`'s work dir when it is not `self`, else undefined. */
export function workDirOwner(self: WorkDirClaim, others: readonly WorkDirClaim[]): WorkDirClaim | undefined {
  const sharing = others.filter((other) => other.key !== self.key && sameWorkDir(self, other));
  const first = [self, ...sharing].sort((a, b) =>
    a.createdAt !== b.createdAt ? a.createdAt - b.createdAt : a.key < b.key ? -1 : 1,
  )[0];
  return first && first.key !== self.key ? first : undefined;
}

function sameWorkDir(a: WorkDirClaim, b: WorkDirClaim): boolean {
  if (a.spec.host.toLowerCase() !== b.spec.host.toLowerCase()) return false;
  if (a.spec.port !== b.spec.port || a.spec.user !== b.spec.user) return false;
  if (a.resolvedWorkDir && b.resolvedWorkDir) return a.resolvedWorkDir === b.resolvedWorkDir;
  return trimSlashes(a.spec.workDir) === trimSlashes(b.spec.workDir);
}

function trimSlashes(path: string): string {
  return path.replace(/\/+$/, '').replace(/\/{2,}/g, '/');
}
