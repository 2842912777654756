import { z } from 'zod';
import {
  API_VERSION,
  Conditions,
  defaultedObject,
  HostPort,
  MODULE_NAME_PATTERN,
  matching,
  ObjectMeta,
  ObjectName,
  SecretKey,
  SlurmName,
  SlurmTime,
  Timestamp,
  withRules,
} from './common.js';

export const SLURM_CLUSTER_KIND = 'SlurmCluster';
export const SLURM_CLUSTER_PLURAL = 'slurmclusters';
export const SLURM_CLUSTER_SINGULAR = 'slurmcluster';
// Not `sc`: kubectl already resolves it to StorageClass.
export const SLURM_CLUSTER_SHORT_NAMES = ['scluster'];

const integer = (min: number, max: number) => z.number().int().min(min).max(max);

/** Host names (RFC 1123), IPv4 and IPv6 literals without brackets. */
export const HOST_PATTERN =
  '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$';

/** POSIX-ish login names; no leading `-`, which ssh would read as an option. */
export const USER_PATTERN = '^[A-Za-z_][A-Za-z0-9_.-]*$';

/**
 * Remote paths: absolute, or relative to the login user's home. No `..`, spaces or shell characters, so the
 * operator can confine uploads to this folder.
 */
export const REMOTE_PATH_PATTERN = '^[A-Za-z0-9_./+-]+$';

export const SshSecretReference = z
  .strictObject({
    name: ObjectName.describe("Name of a Secret in the SlurmCluster's namespace."),
    privateKeyKey: SecretKey.default('privateKey').describe(
      'Key of the Secret holding the OpenSSH private key (unencrypted).',
    ),
    knownHostsKey: SecretKey.default('knownHosts').describe(
      'Key of the Secret holding known_hosts lines for the login node; the host key is always verified.',
    ),
  })
  .describe('Secret with the SSH private key and the known_hosts of the login node.');

export const GrafanaAdminSecretReference = z
  .strictObject({
    name: ObjectName.describe("Name of a Secret in the SlurmCluster's namespace."),
    userKey: SecretKey.default('admin-user').describe('Key of the Secret holding the Grafana admin user.'),
    passwordKey: SecretKey.default('admin-password').describe(
      'Key of the Secret holding the Grafana admin password.',
    ),
  })
  .describe(
    'Secret with the Grafana admin credentials. Unset: Grafana gets a random password kept on the cluster.',
  );

export const ClusterDefaults = z
  .strictObject({
    account: SlurmName.optional().describe('SLURM account used when a benchmark sets none.'),
    qos: SlurmName.optional().describe('SLURM QOS used when a benchmark sets none.'),
    serverPartition: SlurmName.optional().describe(
      'Partition of Ollama server jobs when a benchmark sets none (usually a GPU partition).',
    ),
    clientPartition: SlurmName.optional().describe(
      'Partition of client-service jobs when a benchmark sets none (usually a CPU partition).',
    ),
  })
  .describe('Values benchmarks on this cluster inherit when they leave them out.');

export const ClusterMonitoring = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Run the shared monitoring job (Prometheus, Pushgateway, Grafana) for all benchmarks here.'),
    partition: SlurmName.optional().describe(
      "Partition of the monitoring job. Default: defaults.clientPartition, else SLURM's default partition.",
    ),
    time: SlurmTime.default('1-00:00:00').describe(
      'Time limit of the monitoring job; the operator resubmits it when it ends. SLURM time format, quoted in YAML ("1-00:00:00").',
    ),
    memGB: integer(1, 256).default(4).describe('Memory of the monitoring job in GB.'),
    scrapeIntervalSeconds: integer(1, 300).default(15).describe('Prometheus scrape interval.'),
    grafanaAdminSecretRef: GrafanaAdminSecretReference.optional(),
  })
  .describe('The monitoring stack shared by every benchmark of this cluster.');

export const ContainerRuntime = z.enum(['apptainer', 'singularity', 'native']);

export const SlurmClusterSpec = z
  .strictObject({
    host: matching(z.string().min(1).max(253), HOST_PATTERN, 'must be a host name or an IP address').describe(
      'SSH login node: host name or IP address.',
    ),
    port: integer(1, 65_535).default(22).describe('SSH port of the login node.'),
    user: matching(
      z.string().min(1).max(64),
      USER_PATTERN,
      'must be a login name: letters, digits, "_", ".", "-", not starting with a digit, "." or "-"',
    ).describe('Login user on the cluster; jobs run as this user.'),
    sshSecretRef: SshSecretReference,
    workDir: withRules(
      matching(
        z.string().min(1).max(1024),
        REMOTE_PATH_PATTERN,
        'must be a path of letters, digits, "_", ".", "/", "+", "-" (no spaces or shell characters)',
      ),
      [
        {
          rule: "!self.startsWith('-') && !self.split('/').exists(s, s == '..')",
          message: 'must not start with "-" or contain ".." segments',
          holds: (path) => !path.startsWith('-') && !path.split('/').includes('..'),
        },
      ],
    )
      .default('hpcbench')
      .describe(
        "Folder on the cluster for uploads, job scripts, logs and results; absolute, or relative to the user's home. Every remote file the operator writes stays inside it.",
      ),
    containerRuntime: ContainerRuntime.default('apptainer').describe(
      'How jobs start Ollama and the exporters: apptainer or singularity run images, native uses binaries on the PATH (after modules are loaded).',
    ),
    modules: z
      .array(
        matching(
          z.string().min(1).max(256),
          MODULE_NAME_PATTERN,
          'must be a module name: letters, digits, "_", ".", "/", "+", "-", not starting with "-"',
        ),
      )
      .max(32)
      .optional()
      .describe(
        'Environment modules every job loads first (module load …), e.g. env/release/2024.1, Apptainer.',
      ),
    defaults: ClusterDefaults.optional(),
    maxActiveBenchmarks: integer(1, 10_000)
      .optional()
      .describe(
        'At most this many benchmarks of this cluster hold SLURM jobs at once; the others wait in phase Queued (reason WaitingForCapacity) in creation order. A benchmark needs its Ollama and client jobs running together, so set this to the number of such pairs your allocation can run side by side; unset, every benchmark submits at once and a full queue can leave servers waiting for clients that cannot start.',
      ),
    monitoring: defaultedObject(ClusterMonitoring),
  })
  .describe('How to reach one SLURM cluster over SSH, and what its jobs share.');
export type SlurmClusterSpec = z.infer<typeof SlurmClusterSpec>;
export type SlurmClusterSpecInput = z.input<typeof SlurmClusterSpec>;

// --- status ----------------------------------------------------------------------------------------------------

export const PartitionInfo = z
  .strictObject({
    name: z.string().min(1).max(64).describe('Partition name.'),
    state: z.string().max(32).optional().describe('Partition state as sinfo reports it, e.g. up.'),
    nodes: z.number().int().min(0).optional().describe('Nodes in the partition.'),
    cpus: z.number().int().min(0).optional().describe('CPUs per node.'),
    memoryMB: z.number().int().min(0).optional().describe('Memory per node in MB.'),
    gpus: z.number().int().min(0).optional().describe('GPUs per node (from gres).'),
    timeLimit: z.string().max(32).optional().describe('Maximum time limit of jobs, as sinfo prints it.'),
  })
  .describe('A partition as sinfo reported it.');

export const ClusterMonitoringStatus = z
  .strictObject({
    jobId: z.string().max(32).optional().describe('SLURM job id of the monitoring job.'),
    state: z.string().max(32).optional().describe('SLURM state of the monitoring job.'),
    node: z.string().max(253).optional().describe('Node the monitoring job runs on.'),
    prometheus: HostPort.optional().describe('host:port of Prometheus on the cluster network.'),
    pushgateway: HostPort.optional().describe('host:port of the Pushgateway on the cluster network.'),
    grafana: HostPort.optional().describe(
      'host:port of Grafana on the cluster network (absent without Grafana).',
    ),
  })
  .describe('The shared monitoring job and its endpoints, as the job wrote them to endpoints.json.');

export const SlurmClusterStatus = z
  .strictObject({
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('metadata.generation the status describes.'),
    conditions: Conditions.optional(),
    slurmVersion: z.string().max(64).optional().describe('SLURM version reported by sinfo --version.'),
    partitions: z
      .array(PartitionInfo)
      .max(256)
      .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })
      .refine((list) => new Set(list.map((p) => p.name)).size === list.length, {
        message: 'partition names must be unique',
      })
      .optional()
      .describe('Partitions of the cluster.'),
    monitoring: ClusterMonitoringStatus.optional(),
    lastProbeTime: Timestamp.optional().describe('Last time the operator reached the cluster.'),
  })
  .describe('What the operator observed; written only through the status subresource.');
export type SlurmClusterStatus = z.infer<typeof SlurmClusterStatus>;

export const SlurmCluster = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(SLURM_CLUSTER_KIND),
  metadata: ObjectMeta,
  spec: SlurmClusterSpec,
  status: SlurmClusterStatus.optional(),
});
export type SlurmCluster = z.infer<typeof SlurmCluster>;
export type SlurmClusterInput = z.input<typeof SlurmCluster>;
