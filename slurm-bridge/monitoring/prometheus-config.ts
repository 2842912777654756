import { posix } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { shellQuote } from '../shell/quote.js';
import { TARGET_KINDS, type TargetKind } from './layout.js';
import { ShellText, shellWord } from './shell-text.js';

/** Prometheus' own duration syntax (`30d`, `1h30m`, `500ms`); anything else makes it refuse to start. */
const PROMETHEUS_DURATION = /^(\d+(ms|s|m|h|d|w|y))+$/;

export const PrometheusConfigOptions = z.object({
  /** `<workDir>/monitoring/targets`: one sub-folder per target kind, filled by the jobs themselves. */
  targetsDir: z.string().startsWith('/'),
  scrapeIntervalSeconds: z.number().int().min(1).max(300).default(15),
  /** Bearer token for the client-service's /metrics; defaults to the sibling `scrape-token` of targetsDir. */
  scrapeTokenFile: z.string().startsWith('/').optional(),
});
export type PrometheusConfigOptions = z.input<typeof PrometheusConfigOptions>;

/**
 * How often each kind's folder is re-read. DCGM exporters come and go with short GPU jobs, so they are
 * picked up fastest; the rest change at most once per job start.
 */
const REFRESH_SECONDS: Record<TargetKind, number> = {
  prometheus: 10,
  pushgateway: 10,
  node: 10,
  dcgm: 3,
  client: 10,
  cadvisor: 10,
  engine: 10,
};

function fileSd(targetsDir: string, kind: TargetKind) {
  return [{ files: [posix.join(targetsDir, kind, '*.json')], refresh_interval: `${REFRESH_SECONDS[kind]}s` }];
}

function scrapeJob(kind: TargetKind, targetsDir: string, scrapeTokenFile: string): Record<string, unknown> {
  const job: Record<string, unknown> = { job_name: kind, file_sd_configs: fileSd(targetsDir, kind) };
  // Pushed series carry their own `job`/`instance`; without honor_labels they become exported_job/instance.
  if (kind === 'pushgateway') job.honor_labels = true;
  // The client-service answers /metrics only with a token; this one is accepted for /metrics alone.
  if (kind === 'client') job.authorization = { type: 'Bearer', credentials_file: scrapeTokenFile };
  return job;
}

/** The Prometheus configuration (YAML text) for the monitoring job: every target comes from file_sd. */
export function renderPrometheusConfig(options: PrometheusConfigOptions): string {
  const opts = PrometheusConfigOptions.parse(options);
  const scrapeTokenFile = opts.scrapeTokenFile ?? posix.join(posix.dirname(opts.targetsDir), 'scrape-token');
  const interval = opts.scrapeIntervalSeconds;
  const config = {
    global: {
      scrape_interval: `${interval}s`,
      // Prometheus refuses a timeout longer than the interval.
      scrape_timeout: `${Math.min(interval, 10)}s`,
      evaluation_interval: `${interval}s`,
    },
    scrape_configs: TARGET_KINDS.map((kind) => scrapeJob(kind, opts.targetsDir, scrapeTokenFile)),
  };
  return stringify(config, { lineWidth: 0 });
}

export const PrometheusArgsOptions = z.object({
  configFile: z.string().min(1),
  dataDir: z.string().min(1),
  /** host:port, e.g. `127.0.0.1:9090` or `node01:9090`. */
  listen: z.string().regex(/^[^\s:]*:\d{1,5}$/, 'listen must be host:port'),
  /** Retention is a flag, not configuration, in Prometheus 2.x. The old system kept 30 days. */
  retention: z
    .string()
    .regex(PROMETHEUS_DURATION, 'retention must be a Prometheus duration like 30d')
    .default('30d'),
});
export type PrometheusArgsOptions = z.input<typeof PrometheusArgsOptions>;

/** Command-line arguments for `prometheus` (unquoted; the job script passes each through shellQuote). */
export function prometheusArgs(options: PrometheusArgsOptions): string[] {
  const opts = PrometheusArgsOptions.parse(options);
  return [
    `--config.file=${opts.configFile}`,
    `--storage.tsdb.path=${opts.dataDir}`,
    `--storage.tsdb.retention.time=${opts.retention}`,
    `--web.listen-address=${opts.listen}`,
  ];
}

export const PrometheusCommandOptions = PrometheusArgsOptions.extend({
  /** host:port, possibly only known when the job runs: `[{ shellVar: 'HOST' }, ':', { shellVar: 'PORT' }]`. */
  listen: ShellText,
  binary: z.string().min(1).default('prometheus'),
});
export type PrometheusCommandOptions = z.input<typeof PrometheusCommandOptions>;

/** The whole `prometheus …` command line for a job script, every value quoted. */
export function prometheusCommand(options: PrometheusCommandOptions): string {
  const opts = PrometheusCommandOptions.parse(options);
  const fixed = prometheusArgs({ ...opts, listen: ':0' }).filter(
    (arg) => !arg.startsWith('--web.listen-address='),
  );
  const listen = Array.isArray(opts.listen) ? opts.listen : [opts.listen];
  return [
    shellQuote(opts.binary),
    ...fixed.map(shellQuote),
    shellWord(['--web.listen-address=', ...listen]),
  ].join(' ');
}
