import { spawn } from 'node:child_process';
import { type KubeSandbox, requireKube } from '../sandbox/description.js';

/** Runs the sandbox's own kubectl and helm (built at the apiserver's version), never one from the PATH. */

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Defaults to the sandbox's admin kubeconfig. */
  kubeconfig?: string;
  input?: string;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** kubectl with the given (or admin) kubeconfig; resolves with the exit code instead of throwing. */
export function kubectl(args: string[], options: CliOptions = {}, kube: KubeSandbox = requireKube()) {
  const kubeconfig = options.kubeconfig ?? kube.kubeconfig;
  return run(
    kube.kubectl,
    ['--kubeconfig', kubeconfig, ...args],
    { ...process.env, KUBECONFIG: kubeconfig },
    options.input,
  );
}

/** helm with the given (or admin) kubeconfig and private cache folders, so runs never share state. */
export function helm(
  args: string[],
  options: CliOptions & { home: string },
  kube: KubeSandbox = requireKube(),
) {
  const kubeconfig = options.kubeconfig ?? kube.kubeconfig;
  const env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    HELM_CACHE_HOME: `${options.home}/cache`,
    HELM_CONFIG_HOME: `${options.home}/config`,
    HELM_DATA_HOME: `${options.home}/data`,
  };
  return run(kube.helm, args, env, options.input);
}

/** Like `kubectl` but throws with stderr when the exit code is not 0. */
export async function kubectlOk(args: string[], options: CliOptions = {}, kube: KubeSandbox = requireKube()) {
  const result = await kubectl(args, options, kube);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout;
}
