import { ConfigError, loadConfig } from './config.js';
import { startServer } from './server.js';

/**
 * `node client-service.mjs [flags]`: the entry of the bundle the operator uploads and a SLURM job runs.
 * SIGTERM (scancel, the job's time limit) cancels runs in flight; each writes its files and final push.
 */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`client-service: ${err.message}\n`);
      process.exit(2);
    }
    // commander prints help/usage itself and throws to exit.
    const code = (err as { exitCode?: number }).exitCode;
    process.exit(typeof code === 'number' ? code : 2);
  }
  const { app } = await startServer(config);
  let closing = false;
  const stop = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

void main();
