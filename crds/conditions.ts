/**
 * Condition types, reasons and phases: the one place where these strings are spelled. The operator sets
 * them, users `kubectl wait --for=condition=<type>` on them, Argo CD health checks read them.
 */

/** Condition types of an InferenceBenchmark, in the order the reconcile pipeline reaches them. */
export const BenchmarkConditionType = {
  /** The cluster's shared monitoring stack answers (True with reason Disabled when monitoring is off). */
  MonitoringReady: 'MonitoringReady',
  /** The Ollama job runs and the model is loaded. */
  OllamaModelLoaded: 'OllamaModelLoaded',
  /** The client-service job runs and its /health answers through SSH. */
  ClientHealthy: 'ClientHealthy',
  /** The run finished; status True means results are in status.results, False means it failed. */
  BenchmarkComplete: 'BenchmarkComplete',
  /** Summary: True when the benchmark succeeded; False with the failing step's reason otherwise. */
  Ready: 'Ready',
  /**
   * Only with spec.slo, once the run ended: whether the SLO held at spec.slo.level, or at any level of the
   * sweep; False names the failing threshold. With slo.failBenchmark, False also fails the benchmark.
   */
  SLOMet: 'SLOMet',
} as const;
export type BenchmarkConditionType = (typeof BenchmarkConditionType)[keyof typeof BenchmarkConditionType];

/** Condition types of a SlurmCluster. */
export const ClusterConditionType = {
  /** SSH connects with the given key and host key, and `sinfo` answers. */
  Ready: 'Ready',
  /** The shared monitoring job runs and Prometheus answers (True with reason Disabled when off). */
  MonitoringReady: 'MonitoringReady',
} as const;
export type ClusterConditionType = (typeof ClusterConditionType)[keyof typeof ClusterConditionType];

/**
 * Reasons (CamelCase, as metav1.Condition requires). Grouped by the step that sets them; a reason means the
 * same thing on every condition that carries it.
 */
export const ConditionReason = {
  // Spec and references
  /** The spec failed the operator's zod validation; the message names the fields. Not retried. */
  InvalidSpec: 'InvalidSpec',
  /** spec.clusterRef names no SlurmCluster in the namespace. */
  ClusterNotFound: 'ClusterNotFound',
  /** The SlurmCluster exists but is not Ready (SSH or SLURM unreachable). */
  ClusterNotReady: 'ClusterNotReady',
  /** A referenced Secret or key in it is missing. */
  SecretNotFound: 'SecretNotFound',
  /** workload.dataset names a ConfigMap or key that does not exist (yet): the run waits for it. */
  DatasetNotFound: 'DatasetNotFound',
  /**
   * workload.dataset could not be read (bad JSON, no human turn, empty, a row without prompt); the message
   * names the row. Terminal until the spec or the ConfigMap changes.
   */
  InvalidDataset: 'InvalidDataset',
  /** The step is switched off by the spec (monitoring.enabled: false). Counts as satisfied. */
  Disabled: 'Disabled',
  /** Waiting for an earlier step. */
  WaitingForDependencies: 'WaitingForDependencies',
  /** Another SlurmCluster already uses this login user's work dir (and runs its monitoring job there). */
  WorkDirConflict: 'WorkDirConflict',
  /** The SlurmCluster's maxActiveBenchmarks are all taken; the message gives the place in line. */
  WaitingForCapacity: 'WaitingForCapacity',

  // SSH and cluster
  /** Connected over SSH and `sinfo` answered. */
  Connected: 'Connected',
  /** The SSH server's host key is not in knownHosts, or differs from it. */
  HostKeyMismatch: 'HostKeyMismatch',
  /** The SSH server refused the key. */
  AuthenticationFailed: 'AuthenticationFailed',
  /** TCP connection, handshake or a remote command failed or timed out. */
  Unreachable: 'Unreachable',

  // SLURM jobs
  /** sbatch refused the job (bad partition, account, memory…); the message has sbatch's stderr. */
  SubmitFailed: 'SubmitFailed',
  /** The job waits in the queue; the message carries SLURM's pending reason. */
  JobPending: 'JobPending',
  /** The job runs but its service does not answer yet. */
  JobRunning: 'JobRunning',
  /** The job ended with a non-zero exit code (FAILED). */
  JobFailed: 'JobFailed',
  /** SLURM killed the job at its time limit (TIMEOUT). */
  JobTimeout: 'JobTimeout',
  /** SLURM killed the job for exceeding its memory (OUT_OF_MEMORY). */
  OutOfMemory: 'OutOfMemory',
  /** The node failed under the job (NODE_FAIL). */
  NodeFail: 'NodeFail',
  /** The job was cancelled from outside the operator (scancel, preemption, admin). */
  JobCancelled: 'JobCancelled',
  /** The job left the queue and its end state could not be read. */
  JobLost: 'JobLost',

  // Monitoring
  /** Prometheus and the Pushgateway answer. */
  MonitoringAvailable: 'MonitoringAvailable',

  // The server's model (every engine; the condition keeps its first name, OllamaModelLoaded)
  /** The model is being pulled; the message has the progress. */
  ModelPulling: 'ModelPulling',
  /** The engine is downloading or loading its weights (vLLM, SGLang, llama.cpp); its health does not answer yet. */
  ModelLoading: 'ModelLoading',
  /** The engine could not serve the model: it exited or never answered; the message has why. */
  ModelLoadFailed: 'ModelLoadFailed',
  /** The Hugging Face token Secret or its key is missing. */
  TokenSecretNotFound: 'TokenSecretNotFound',
  /** The model is present and loaded. */
  ModelLoaded: 'ModelLoaded',
  /** `ollama pull` failed; the message has Ollama's error. */
  ModelPullFailed: 'ModelPullFailed',

  // Client service
  /** The client-service bundle is being uploaded or its job started; /health does not answer yet. */
  ClientStarting: 'ClientStarting',
  /** /health answered. */
  ClientHealthy: 'ClientHealthy',
  /** /health stopped answering after it had answered. */
  ClientUnhealthy: 'ClientUnhealthy',

  // Run
  /** The run is in progress; status.progress has the counts. */
  RunInProgress: 'RunInProgress',
  /** The run finished and status.results is filled. */
  RunSucceeded: 'RunSucceeded',
  /** The run could not finish (client-service error, every measured request failed, …). */
  RunFailed: 'RunFailed',
  /** More than workload.maxErrorRate of the measured requests failed; status.results counts them by kind. */
  TooManyErrors: 'TooManyErrors',

  // SLO (spec.slo)
  /** The SLO held (at spec.slo.level, or at some level of the sweep); the message gives the level and goodput. */
  SLOMet: 'SLOMet',
  /**
   * The SLO did not hold; the message names the failing threshold and level. On BenchmarkComplete and Ready
   * too when spec.slo.failBenchmark ends the benchmark Failed.
   */
  SLONotMet: 'SLONotMet',

  // Lifecycle
  /** A spec change started a new run; the old jobs are being cancelled. */
  SpecChanged: 'SpecChanged',
  /** The object is being deleted; the finalizer cancels its jobs. */
  Deleting: 'Deleting',
} as const;
export type ConditionReason = (typeof ConditionReason)[keyof typeof ConditionReason];

/** status.phase of an InferenceBenchmark: a one-word summary for `kubectl get`. */
export const BenchmarkPhase = {
  /** Accepted, not yet submitted (waiting for the cluster or monitoring). */
  Pending: 'Pending',
  /** The server or client job waits in the SLURM queue. */
  Queued: 'Queued',
  /** Jobs run; the model is loading or the client starting. */
  Provisioning: 'Provisioning',
  /** Requests are being sent. */
  Running: 'Running',
  /** Results are in status.results. */
  Succeeded: 'Succeeded',
  /** A step failed; the Ready condition says which and why. */
  Failed: 'Failed',
} as const;
export type BenchmarkPhase = (typeof BenchmarkPhase)[keyof typeof BenchmarkPhase];
export const BENCHMARK_PHASES = Object.values(BenchmarkPhase) as [BenchmarkPhase, ...BenchmarkPhase[]];

/** Phases after which nothing more happens until the spec changes. */
export const TERMINAL_PHASES: ReadonlySet<BenchmarkPhase> = new Set([
  BenchmarkPhase.Succeeded,
  BenchmarkPhase.Failed,
]);

/** Finalizer the operator puts on benchmarks so their SLURM jobs are cancelled before the object goes. */
export const BENCHMARK_FINALIZER = 'hpcbench.io/cancel-jobs';

/** Finalizer the operator puts on SlurmClusters so the shared monitoring job is cancelled first. */
export const SLURM_CLUSTER_FINALIZER = 'hpcbench.io/cancel-monitoring-job';

/** Annotation an admin sets to let the finalizer go while the cluster is unreachable (jobs may be left). */
export const FORCE_DELETE_ANNOTATION = 'hpcbench.io/force-delete';
