import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The machine-readable description that `test/sandbox/sandbox up` writes. Tests, benchmarks and the demo
 * read it instead of hard-coding ports, paths or users. Each half of the sandbox fills its own section:
 * `hpc` (SLURM, sshd, Ollama, llama.cpp, Prometheus binaries) and `kube` (etcd, kube-apiserver, kubectl,
 * helm).
 */
export const DEFAULT_SANDBOX_FILE = '/var/lib/ibo-sandbox/sandbox.json';

export const HpcSandbox = z.object({
  ssh: z.object({
    host: z.string(),
    port: z.number().int(),
    user: z.string(),
    privateKeyPath: z.string(),
    knownHostsPath: z.string(),
    /** sshd's own pid file, so tests can restart it. */
    pidFile: z.string(),
    configPath: z.string(),
  }),
  slurm: z.object({
    clusterName: z.string(),
    version: z.string(),
    partitions: z.array(z.string()),
    /** Folder (owned by the ssh user) where tests and jobs put job output. */
    jobOutputDir: z.string(),
    /** slurmdbd on MariaDB: sacct knows finished jobs after slurmctld purged them. Absent before that. */
    accounting: z.object({ storage: z.literal('slurmdbd'), dbdPort: z.number().int() }).optional(),
  }),
  /**
   * First on the login user's PATH for SSH commands, empty unless a test put wrappers there
   * (test/support/login-faults.ts). Optional only so that a description written before it still reads.
   */
  loginFaultDir: z.string().optional(),
  /** Remote work dir a SlurmCluster would use (owned by the ssh user). */
  workDir: z.string(),
  ollama: z.object({
    /** OLLAMA_MODELS folder shared by every job; already holds `model`. */
    modelsDir: z.string(),
    model: z.string(),
  }),
  /**
   * An OCI registry on 127.0.0.1 (go-containerregistry's, data on disk), for pulls on the cluster's own
   * network (`insecureRegistry`). It holds `model`, the sandbox's gemma3:270m as it is (its blobs are all in
   * `ollama.modelsDir` already), and `freshModel`, the same weights under another model blob that no models
   * dir holds, so a pull of it moves the data. Optional only so that a description written before it
   * still reads.
   */
  registry: z
    .object({
      host: z.string(),
      port: z.number().int(),
      dataDir: z.string(),
      /** `repository:tag` inside the registry, e.g. `library/gemma3:270m`. */
      model: z.string(),
      freshModel: z.string(),
    })
    .optional(),
  /**
   * llama.cpp's OpenAI-compatible server for `containerRuntime: native` jobs: `server` is `llama-server` on
   * the remote non-interactive PATH, a stand-in that takes llama.cpp's own flags and runs llama-cpp-python
   * `version` (test/sandbox/hpc/llama-server.in says which flags and how it differs). `ggufPath` is a stable
   * path, readable by the ssh user, of the very GGUF blob Ollama serves as `ollama.model`. Absent until
   * `sandbox up` has built and installed it, and in a description written before it existed.
   */
  llamacpp: z
    .object({
      server: z.string(),
      version: z.string(),
      ggufPath: z.string(),
    })
    .optional(),
  /** Absolute paths; each is also on the remote non-interactive PATH. */
  bin: z.object({
    ollama: z.string(),
    prometheus: z.string(),
    promtool: z.string(),
    pushgateway: z.string(),
    nodeExporter: z.string(),
    node: z.string(),
  }),
});

export const KubeSandbox = z.object({
  server: z.string(),
  /** Admin kubeconfig (system:masters). */
  kubeconfig: z.string(),
  kubectl: z.string(),
  helm: z.string(),
  version: z.string(),
});

export const SandboxDescription = z.object({
  stateDir: z.string(),
  hpc: HpcSandbox.optional(),
  kube: KubeSandbox.optional(),
});
export type SandboxDescription = z.infer<typeof SandboxDescription>;
export type HpcSandbox = z.infer<typeof HpcSandbox>;
export type KubeSandbox = z.infer<typeof KubeSandbox>;

export function sandboxFile(): string {
  return process.env.IBO_SANDBOX_FILE ?? DEFAULT_SANDBOX_FILE;
}

export function readSandbox(file = sandboxFile()): SandboxDescription {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no sandbox description at ${file}: run 'bash test/sandbox/sandbox up' first`);
  }
  return SandboxDescription.parse(JSON.parse(raw));
}

export function requireHpc(d: SandboxDescription = readSandbox()): HpcSandbox {
  if (!d.hpc) throw new Error('the sandbox has no HPC half: run `bash test/sandbox/sandbox up`');
  return d.hpc;
}

export function requireKube(d: SandboxDescription = readSandbox()): KubeSandbox {
  if (!d.kube) throw new Error('the sandbox has no Kubernetes half: run `bash test/sandbox/sandbox up`');
  return d.kube;
}
