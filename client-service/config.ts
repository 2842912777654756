import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';

/**
 * Configuration from flags and environment, validated at boot. The bearer tokens come from a file or the
 * environment, never from argv (argv is world-readable in `ps`). The parsed Config holds the tokens:
 * never log it whole; use describeConfig().
 */

const Settings = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65_535),
  tokenFile: z.string().min(1).optional(),
  metricsTokenFile: z.string().min(1).optional(),
  ollamaUrl: z.url({ protocol: /^https?$/ }),
  pushgatewayUrl: z.url({ protocol: /^https?$/ }).optional(),
  pushIntervalSeconds: z.coerce.number().positive().max(3600),
  outputDir: z.string().min(1),
  benchmark: z.string().min(1).max(253),
  model: z.string().min(1).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
});

export interface Config extends Omit<z.infer<typeof Settings>, 'tokenFile' | 'metricsTokenFile'> {
  /** Grants every endpoint. */
  token: string;
  /** Grants GET /metrics only (Prometheus' credentials_file); null when not configured. */
  metricsToken: string | null;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const ENV = {
  host: 'IBO_CLIENT_HOST',
  port: 'IBO_CLIENT_PORT',
  tokenFile: 'IBO_CLIENT_TOKEN_FILE',
  metricsTokenFile: 'IBO_CLIENT_METRICS_TOKEN_FILE',
  ollamaUrl: 'OLLAMA_URL',
  pushgatewayUrl: 'PUSHGATEWAY_URL',
  pushIntervalSeconds: 'IBO_CLIENT_PUSH_INTERVAL_SECONDS',
  outputDir: 'IBO_CLIENT_OUTPUT_DIR',
  benchmark: 'IBO_BENCHMARK',
  model: 'OLLAMA_MODEL',
  logLevel: 'IBO_CLIENT_LOG_LEVEL',
} as const satisfies Record<keyof z.infer<typeof Settings>, string>;

/** The token itself may come from the environment (for example a SLURM job's exported secret). */
export const TOKEN_ENV = 'IBO_CLIENT_TOKEN';
export const METRICS_TOKEN_ENV = 'IBO_CLIENT_METRICS_TOKEN';

const DEFAULTS = {
  host: '127.0.0.1',
  port: '8000',
  ollamaUrl: 'http://127.0.0.1:11434',
  pushIntervalSeconds: '5',
  outputDir: './client-service-results',
  benchmark: 'benchmark',
  logLevel: 'info',
};

function readToken(file: string | undefined, envValue: string | undefined, what: string): string | null {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read the ${what} file ${file}: ${(err as Error).message}`);
    }
    const token = text.trim();
    if (token.length < 16) throw new ConfigError(`the ${what} file ${file} holds fewer than 16 characters`);
    return token;
  }
  if (envValue !== undefined && envValue.trim().length > 0) {
    if (envValue.trim().length < 16)
      throw new ConfigError(`the ${what} in the environment is under 16 characters`);
    return envValue.trim();
  }
  return null;
}

export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const program = new Command()
    .name('client-service')
    .description(
      'Benchmark engine next to Ollama. The bearer token comes from --token-file or $IBO_CLIENT_TOKEN.',
    )
    .exitOverride()
    .option('--host <host>', `listen address [$${ENV.host}]`)
    .option('--port <port>', `listen port, 0 = any [$${ENV.port}]`)
    .option('--token-file <path>', `file holding the bearer token [$${ENV.tokenFile}]`)
    .option(
      '--metrics-token-file <path>',
      `file holding a token valid for /metrics only [$${ENV.metricsTokenFile}]`,
    )
    .option('--ollama-url <url>', `Ollama base URL [$${ENV.ollamaUrl}]`)
    .option('--pushgateway-url <url>', `Pushgateway base URL; unset = no pushes [$${ENV.pushgatewayUrl}]`)
    .option('--push-interval-seconds <s>', `live push period [$${ENV.pushIntervalSeconds}]`)
    .option('--output-dir <dir>', `records and summaries go to <dir>/<runId>/ [$${ENV.outputDir}]`)
    .option('--benchmark <name>', `benchmark label for metrics [$${ENV.benchmark}]`)
    .option('--model <name>', `model when a request names none [$${ENV.model}]`)
    .option('--log-level <level>', `pino level [$${ENV.logLevel}]`);
  program.parse([...argv], { from: 'user' });
  const flags = program.opts<Record<string, string | undefined>>();
  const raw: Record<string, string | undefined> = {};
  for (const [key, envName] of Object.entries(ENV)) {
    raw[key] = flags[key] ?? env[envName] ?? DEFAULTS[key as keyof typeof DEFAULTS];
  }
  const parsed = Settings.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? '');
    const envName = ENV[key as keyof typeof ENV];
    throw new ConfigError(`invalid ${key} (flag or $${envName}): ${issue?.message}`);
  }
  const { tokenFile, metricsTokenFile, ...settings } = parsed.data;
  const token = readToken(tokenFile, env[TOKEN_ENV], 'token');
  if (token === null) throw new ConfigError(`no bearer token: pass --token-file or set $${TOKEN_ENV}`);
  const metricsToken = readToken(metricsTokenFile, env[METRICS_TOKEN_ENV], 'metrics token');
  return { ...settings, token, metricsToken };
}

/** The configuration without secrets, for the startup log. */
export function describeConfig(config: Config): Record<string, unknown> {
  const { token: _token, metricsToken, ...rest } = config;
  return { ...rest, metricsTokenConfigured: metricsToken !== null };
}
