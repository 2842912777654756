import { z } from 'zod';
import { shellQuote } from '../shell/quote.js';
import {
  cleanupTrap,
  HOST_VAR,
  moduleLoadLines,
  registerJobTarget,
  scriptPreamble,
  superviseTail,
} from './common.js';
import { nodeExporterBlock } from './exporters.js';
import { RuntimeSpec, runtimeCommand, type Word } from './runtime.js';

export const ClientServiceJobOptions = z.object({
  /** The uploaded dist/client-service.mjs (content-addressed path inside the work dir). */
  bundlePath: z.string().startsWith('/'),
  endpointFile: z.string().startsWith('/'),
  targetsDir: z.string().startsWith('/'),
  /** File (mode 0600) holding the bearer token for every endpoint but /health. */
  tokenFile: z.string().startsWith('/'),
  /** The monitoring scrape token, accepted for /metrics only. */
  metricsTokenFile: z.string().startsWith('/').optional(),
  ollamaUrl: z.url({ protocol: /^https?$/ }),
  pushgatewayUrl: z.url({ protocol: /^https?$/ }).optional(),
  outputDir: z.string().startsWith('/'),
  benchmark: z.string().min(1),
  model: z.string().min(1).optional(),
  nodeBinary: z.string().min(1).default('node'),
  runtime: RuntimeSpec.prefault({}),
  modules: z.array(z.string().min(1)).default([]),
  readyTimeoutSeconds: z.number().int().min(1).default(120),
});
export type ClientServiceJobOptions = z.input<typeof ClientServiceJobOptions>;

/**
 * The client-service job: runs the bundled client-service with node on a port it picks itself, writes its
 * endpoint once it listens, and registers its /metrics (and node-exporter) for Prometheus.
 */
export function clientServiceJobScript(input: ClientServiceJobOptions): string {
  const opts = ClientServiceJobOptions.parse(input);
  const labels = { benchmark: opts.benchmark, ...(opts.model ? { model: opts.model } : {}) };
  const client = registerJobTarget({
    targetsDir: opts.targetsDir,
    kind: 'client',
    role: 'client',
    portVar: 'IBO_PORT',
    labels,
  });
  const node = registerJobTarget({
    targetsDir: opts.targetsDir,
    kind: 'node',
    role: 'client',
    portVar: 'IBO_NODE_EXPORTER_PORT',
    labels,
  });
  const argv: Word[] = [
    opts.nodeBinary,
    opts.bundlePath,
    '--host',
    { raw: `"$${HOST_VAR}"` },
    '--port',
    { raw: '"$IBO_PORT"' },
    '--token-file',
    opts.tokenFile,
    '--ollama-url',
    opts.ollamaUrl,
    '--output-dir',
    opts.outputDir,
    '--benchmark',
    opts.benchmark,
  ];
  if (opts.metricsTokenFile) argv.push('--metrics-token-file', opts.metricsTokenFile);
  if (opts.pushgatewayUrl) argv.push('--pushgateway-url', opts.pushgatewayUrl);
  if (opts.model) argv.push('--model', opts.model);
  const runtime = { ...opts.runtime, binds: [...opts.runtime.binds, opts.outputDir] };
  return [
    scriptPreamble(`client-service for benchmark ${opts.benchmark}`),
    moduleLoadLines(opts.modules),
    cleanupTrap([`rm -f -- ${shellQuote(opts.endpointFile)}`, client.unregister, node.unregister]),
    `mkdir -p -- ${shellQuote(opts.outputDir)}`,
    'IBO_PORT=$(ibo_free_port)',
    `${runtimeCommand(runtime, argv)} &`,
    `ibo_wait_tcp "$${HOST_VAR}" "$IBO_PORT" ${opts.readyTimeoutSeconds}`,
    client.register.trimEnd(),
    nodeExporterBlock(node.register),
    // Last: the endpoint file tells the operator everything of this job is up.
    `ibo_write_atomic ${shellQuote(opts.endpointFile)} "$${HOST_VAR}:$IBO_PORT"`,
    `echo "client-service listens on $${HOST_VAR}:$IBO_PORT"`,
    superviseTail(),
  ].join('\n');
}
