/**
 * Typed failures of the SSH layer. Each carries a CamelCase `reason` the operator copies into a condition,
 * and a message that says what to do. Messages never contain key material.
 */
export type SshErrorReason =
  | 'AuthFailed'
  | 'InvalidPrivateKey'
  | 'HostKeyMismatch'
  | 'HostKeyUnknown'
  | 'Unreachable'
  | 'ConnectionLost'
  | 'CommandFailed'
  | 'CommandTimeout'
  | 'PathOutsideWorkDir'
  | 'Closed';

export abstract class SshError extends Error {
  abstract readonly reason: SshErrorReason;
  /** Permanent errors are not retried by the reconnect loop: retrying cannot fix them. */
  readonly permanent: boolean = false;
}

export class AuthFailedError extends SshError {
  readonly reason = 'AuthFailed';
  override readonly permanent = true;
  constructor(user: string, target: string) {
    super(`SSH login as ${user} on ${target} was refused: check the private key in the cluster's Secret`);
  }
}

export class InvalidPrivateKeyError extends SshError {
  readonly reason = 'InvalidPrivateKey';
  override readonly permanent = true;
  constructor(detail: string) {
    super(`the private key cannot be used (${detail}): store an OpenSSH or PEM private key in the Secret`);
  }
}

export class HostKeyMismatchError extends SshError {
  readonly reason = 'HostKeyMismatch';
  override readonly permanent = true;
  constructor(
    readonly hostName: string,
    readonly presentedFingerprint: string,
  ) {
    super(
      `the host key of ${hostName} (${presentedFingerprint}) does not match known_hosts: ` +
        'the host may have been reinstalled or someone is intercepting; update knownHosts only after checking',
    );
  }
}

export class HostKeyUnknownError extends SshError {
  readonly reason = 'HostKeyUnknown';
  override readonly permanent = true;
  constructor(
    readonly hostName: string,
    readonly presentedFingerprint: string,
  ) {
    super(
      `known_hosts has no entry for ${hostName} (presented ${presentedFingerprint}): ` +
        `add one, e.g. from 'ssh-keyscan -p PORT HOST' checked out of band`,
    );
  }
}

export class UnreachableError extends SshError {
  readonly reason = 'Unreachable';
  constructor(target: string, cause: string) {
    super(`cannot reach ${target}: ${cause}`);
  }
}

export class ConnectionLostError extends SshError {
  readonly reason = 'ConnectionLost';
  constructor(target: string) {
    super(`the SSH connection to ${target} dropped while the operation was running; it will reconnect`);
  }
}

export class ClosedError extends SshError {
  readonly reason = 'Closed';
  override readonly permanent = true;
  constructor() {
    super('the SSH connection was closed by its owner');
  }
}

export class CommandFailedError extends SshError {
  readonly reason = 'CommandFailed';
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderrTail: string,
  ) {
    super(`remote command '${command}' exited with ${code ?? 'a signal'}: ${stderrTail}`);
  }
}

export class CommandTimeoutError extends SshError {
  readonly reason = 'CommandTimeout';
  constructor(
    readonly command: string,
    readonly timeoutSeconds: number,
  ) {
    super(`remote command '${command}' did not finish within ${timeoutSeconds}s and was killed`);
  }
}

export class PathOutsideWorkDirError extends SshError {
  readonly reason = 'PathOutsideWorkDir';
  override readonly permanent = true;
  constructor(
    readonly requested: string,
    readonly workDir: string,
  ) {
    super(`path ${JSON.stringify(requested)} resolves outside the work dir ${workDir}; refused`);
  }
}

/** The last `maxChars` characters of a text, on a line boundary when possible: for messages. */
export function tail(text: string, maxChars = 2000): string {
  if (text.length <= maxChars) return text.trimEnd();
  const cut = text.slice(-maxChars);
  const newline = cut.indexOf('\n');
  return (newline >= 0 && newline < cut.length - 1 ? cut.slice(newline + 1) : cut).trimEnd();
}
