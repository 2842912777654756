/**
 * Public API of slurm-bridge: everything that touches a remote SLURM cluster, and nothing of Kubernetes.
 * The operator imports from here only.
 */

export { OllamaJobOptions, ollamaJobScript } from './engines/ollama/job-script.js';
export { ENGINES, engineFor } from './engines/registry.js';
export {
  ENGINE_NAMES,
  EngineJobInput,
  type EngineName,
  type ModelPreparation,
  type ServerEngine,
  type ServerProtocol,
} from './engines/types.js';
export { ClientServiceJobOptions, clientServiceJobScript } from './scripts/client-service.js';
export {
  ENVIRONMENT_FILE_MAX_BYTES,
  nodeEnvironmentLines,
  SERVER_ENVIRONMENT_FILE,
  serverEnvironmentPath,
} from './scripts/environment.js';
export { MonitoringJobOptions, monitoringJobScript } from './scripts/monitoring.js';
export { ContainerRuntime, RuntimeSpec, runtimeCommand } from './scripts/runtime.js';
export { shellJoin, shellQuote } from './shell/quote.js';
export { SlurmClient, type SlurmClientOptions } from './slurm/client.js';
export { expandHostlist } from './slurm/hostlist.js';
export { isFound, type JobInfo, type JobLookup, type JobNotFound } from './slurm/job-info.js';
export { SbatchError, type SbatchErrorReason, SubmitRequest, sanitizeJobName } from './slurm/sbatch.js';
export type { ClusterInfo, PartitionInfo } from './slurm/sinfo.js';
export {
  failureReason,
  isPending,
  isRunning,
  isTerminal,
  type JobFailureReason,
  type JobState,
  pendingReasonIsHopeless,
} from './slurm/states.js';
export {
  type ConnectionState,
  type ExecFunction,
  type ExecOptions,
  type ExecResult,
  SshConnection,
  SshConnectionOptions,
} from './ssh/connection.js';
export {
  AuthFailedError,
  ClosedError,
  CommandFailedError,
  CommandTimeoutError,
  ConnectionLostError,
  HostKeyMismatchError,
  HostKeyUnknownError,
  InvalidPrivateKeyError,
  PathOutsideWorkDirError,
  SshError,
  type SshErrorReason,
  tail,
  UnreachableError,
} from './ssh/errors.js';
export { fingerprint, knownHostsName, parseKnownHosts, verifyHostKey } from './ssh/known-hosts.js';
export { Semaphore } from './ssh/semaphore.js';
export { confinePath, type RemoteDirEntry, RemoteFiles } from './ssh/sftp.js';
export { type ForwardTarget, type LocalListener, listenLocal, SshForward } from './ssh/tunnel.js';
