import { consoleAppJs } from '../console/app-bundle.js';
import { newToken } from '../console/security.js';
import { startConsole } from '../console/server.js';
import { CliError, connect, type KubeOptions } from './kube.js';

/**
 * `kubectl hpcbench console`: the web console on 127.0.0.1, acting as the kubeconfig's user (so RBAC applies
 * as it does to kubectl). The printed URL carries a one-time session token; the page trades it for an
 * HttpOnly cookie. Runs until Ctrl-C.
 */
export async function consoleCommand(
  options: KubeOptions & { port?: string; grafanaNamespace?: string },
  write: (text: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const port = options.port === undefined ? 8765 : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`error: --port must be a port number (0 picks a free one), got "${options.port}"`);
  const kube = connect(options);
  let running: Awaited<ReturnType<typeof startConsole>>;
  try {
    running = await startConsole({
      kube,
      port,
      token: newToken(),
      appJs: await consoleAppJs(),
      namespace: kube.namespace,
      ...(options.grafanaNamespace ? { grafanaNamespace: options.grafanaNamespace } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new CliError(`error: 127.0.0.1:${port} is in use: pick another with --port (0 picks a free one)`);
    throw error;
  }
  write(`Console: ${running.url}\n`);
  write(
    `Acting as context "${kube.config.getCurrentContext()}"; namespace "${kube.namespace}". Ctrl-C stops it.\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });
  });
  await running.close();
}
