import { Command } from 'commander';
import { SyntheticOllama } from './server.js';

/**
 * Runs the synthetic token server as its own process (benchmarks put it on the other core). Prints one
 * JSON line {"url": ...} once it listens; change behaviour later with POST /_synthetic/config.
 */
const program = new Command()
  .name('synthetic-ollama')
  .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', '0')
  .option('--first-token-delay-ms <ms>', 'delay before the first token', '20')
  .option('--inter-token-delay-ms <ms>', 'delay between tokens', '5')
  .option('--token-count <n>', 'tokens per answer', '16')
  .option('--max-parallel <n>', 'answers at once; more requests wait (default: no limit)')
  .parse();

const opts = program.opts<{
  port: string;
  firstTokenDelayMs: string;
  interTokenDelayMs: string;
  tokenCount: string;
  maxParallel?: string;
}>();
const server = new SyntheticOllama({
  maxParallel: opts.maxParallel === undefined ? null : Number(opts.maxParallel),
  default: {
    firstTokenDelayMs: Number(opts.firstTokenDelayMs),
    interTokenDelayMs: Number(opts.interTokenDelayMs),
    tokenCount: Number(opts.tokenCount),
  },
});
const url = await server.listen(Number(opts.port));
process.stdout.write(`${JSON.stringify({ url, pid: process.pid })}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
