import { ConditionReason } from '../../../crds/index.js';
import { SshError } from '../../../slurm-bridge/index.js';

/** A condition reason and a message a user can act on, for a failure to reach the cluster. */
export function readinessFailure(error: unknown): { reason: ConditionReason; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof SshError) {
    switch (error.reason) {
      case 'HostKeyMismatch':
      case 'HostKeyUnknown':
        return { reason: ConditionReason.HostKeyMismatch, message };
      case 'AuthFailed':
      case 'InvalidPrivateKey':
        return { reason: ConditionReason.AuthenticationFailed, message };
      default:
        return { reason: ConditionReason.Unreachable, message };
    }
  }
  return { reason: ConditionReason.Unreachable, message };
}
