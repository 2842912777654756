import { Command } from 'commander';
import { registerTunnelCommand } from './command.js';

/**
 * Runs the tunnel on its own (`npx tsx operator/tunnel/cli.ts tunnel ...`), for development and the
 * integration test. The image runs the same command through operator/main.ts.
 */
const program = new Command('ibo-tunnel');
registerTunnelCommand(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
