import { describe, expect, it } from 'vitest';
import { ConditionReason } from '../../../crds/index.js';
import {
  AuthFailedError,
  HostKeyMismatchError,
  HostKeyUnknownError,
  InvalidPrivateKeyError,
  UnreachableError,
} from '../../../slurm-bridge/index.js';
import { readinessFailure } from './ssh-reason.js';

describe('readinessFailure', () => {
  it.each([
    [
      'a host key that differs from known_hosts is HostKeyMismatch',
      new HostKeyMismatchError('[10.0.0.1]:2222', 'SHA256:abc'),
      ConditionReason.HostKeyMismatch,
    ],
    [
      'a host missing from known_hosts is HostKeyMismatch too, since both need the user to fix knownHosts',
      new HostKeyUnknownError('login', 'SHA256:abc'),
      ConditionReason.HostKeyMismatch,
    ],
    [
      'a refused login is AuthenticationFailed',
      new AuthFailedError('hpcuser', 'login:22'),
      ConditionReason.AuthenticationFailed,
    ],
    [
      'an unusable private key is AuthenticationFailed',
      new InvalidPrivateKeyError('unsupported key format'),
      ConditionReason.AuthenticationFailed,
    ],
    [
      'a refused TCP connection is Unreachable',
      new UnreachableError('login:22', 'connect ECONNREFUSED'),
      ConditionReason.Unreachable,
    ],
    ['any other error is Unreachable', new Error('socket hang up'), ConditionReason.Unreachable],
  ])('%s, and keeps the error message for the user', (_sentence, error, reason) => {
    expect(readinessFailure(error)).toEqual({ reason, message: error.message });
  });

  it('turns a thrown non-Error into its text', () => {
    expect(readinessFailure('boom')).toEqual({ reason: ConditionReason.Unreachable, message: 'boom' });
  });
});
