import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fileSdRegistration } from './file-sd.js';
import { TARGET_KINDS } from './layout.js';
import { prometheusArgs, prometheusCommand, renderPrometheusConfig } from './prometheus-config.js';

const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

interface ScrapeJob {
  job_name: string;
  honor_labels?: boolean;
  file_sd_configs: { files: string[]; refresh_interval: string }[];
  authorization?: { type: string; credentials_file: string };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'prom-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function jobs(yamlText: string): Map<string, ScrapeJob> {
  const config = parse(yamlText) as { scrape_configs: ScrapeJob[] };
  return new Map(config.scrape_configs.map((job) => [job.job_name, job]));
}

describe('renderPrometheusConfig', () => {
  it('has one file_sd scrape job per target kind, reading <targetsDir>/<kind>/*.json', () => {
    const byName = jobs(renderPrometheusConfig({ targetsDir: '/w/monitoring/targets' }));
    expect([...byName.keys()]).toEqual([...TARGET_KINDS]);
    for (const kind of TARGET_KINDS) {
      expect(byName.get(kind)?.file_sd_configs[0]?.files).toEqual([`/w/monitoring/targets/${kind}/*.json`]);
    }
  });

  it('refreshes node targets every 10 s and DCGM targets every 3 s', () => {
    const byName = jobs(renderPrometheusConfig({ targetsDir: '/w/monitoring/targets' }));
    expect(byName.get('node')?.file_sd_configs[0]?.refresh_interval).toBe('10s');
    expect(byName.get('dcgm')?.file_sd_configs[0]?.refresh_interval).toBe('3s');
  });

  it('keeps pushed job/instance labels and sends the scrape token only to the client service', () => {
    const byName = jobs(renderPrometheusConfig({ targetsDir: '/w/monitoring/targets' }));
    expect(byName.get('pushgateway')?.honor_labels).toBe(true);
    expect(byName.get('client')?.authorization).toEqual({
      type: 'Bearer',
      credentials_file: '/w/monitoring/scrape-token',
    });
    const others = [...byName.values()].filter((job) => job.job_name !== 'client');
    expect(others.every((job) => job.authorization === undefined)).toBe(true);
  });

  it('never sets a scrape timeout longer than a short scrape interval', () => {
    const config = parse(renderPrometheusConfig({ targetsDir: '/t', scrapeIntervalSeconds: 2 }));
    expect(config.global).toMatchObject({ scrape_interval: '2s', scrape_timeout: '2s' });
  });

  it.skipIf(!existsSync(PROMTOOL))(
    'passes `promtool check config`, target files written by the jobs included',
    () => {
      const targetsDir = join(dir, 'monitoring', 'targets');
      mkdirSync(join(dir, 'monitoring'), { recursive: true });
      writeFileSync(join(dir, 'monitoring', 'scrape-token'), 'token\n', { mode: 0o600 });
      for (const kind of TARGET_KINDS) {
        const { register } = fileSdRegistration({
          targetsDir,
          kind,
          role: 'job',
          target: '127.0.0.1:9100',
          labels: { benchmark: 'b', model: 'gemma3:270m' },
        });
        const run = spawnSync('bash', ['-euc', register], {
          env: { SLURM_JOB_ID: '9', SLURMD_NODENAME: 'n1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        expect(run.status).toBe(0);
      }
      for (const scrapeIntervalSeconds of [1, 5, 15, 60]) {
        const file = join(dir, `prometheus-${scrapeIntervalSeconds}.yml`);
        writeFileSync(file, renderPrometheusConfig({ targetsDir, scrapeIntervalSeconds }));
        const check = spawnSync(PROMTOOL, ['check', 'config', file], { encoding: 'utf8' });
        expect(check.stdout + check.stderr).toContain('SUCCESS');
        expect(check.status).toBe(0);
      }
    },
  );

  it('rejects a relative targets folder', () => {
    expect(() => renderPrometheusConfig({ targetsDir: 'targets' })).toThrow();
  });
});

describe('prometheusArgs', () => {
  it('passes retention as a flag and defaults it to the old 30 days', () => {
    expect(prometheusArgs({ configFile: '/c.yml', dataDir: '/d', listen: '127.0.0.1:9090' })).toEqual([
      '--config.file=/c.yml',
      '--storage.tsdb.path=/d',
      '--storage.tsdb.retention.time=30d',
      '--web.listen-address=127.0.0.1:9090',
    ]);
    expect(
      prometheusArgs({ configFile: '/c', dataDir: '/d', listen: 'node01:9090', retention: '1d12h' }),
    ).toContain('--storage.tsdb.retention.time=1d12h');
  });

  it.each(['30 days', '30', '-1d', '30d; rm -rf /'])('refuses the retention %j', (retention) => {
    expect(() => prometheusArgs({ configFile: '/c', dataDir: '/d', listen: ':9090', retention })).toThrow();
  });
});

describe('prometheusCommand', () => {
  it('quotes every value and takes a listen address known only when the job runs', () => {
    const command = prometheusCommand({
      configFile: "/w/it's/prometheus.yml",
      dataDir: '/tmp/data',
      listen: [{ shellVar: 'HOST' }, ':', { shellVar: 'PORT' }],
    });
    const run = spawnSync('bash', ['-c', `printf '%s\\n' ${command.replace(/^'prometheus'/, '')}`], {
      env: { HOST: 'node01', PORT: '9090' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(run.stdout.trim().split('\n')).toEqual([
      "--config.file=/w/it's/prometheus.yml",
      '--storage.tsdb.path=/tmp/data',
      '--storage.tsdb.retention.time=30d',
      '--web.listen-address=node01:9090',
    ]);
  });
});
