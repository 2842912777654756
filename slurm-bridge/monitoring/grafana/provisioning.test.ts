import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DATASOURCE_UID } from './dashboard-model.js';
import {
  exportLines,
  grafanaEnvironment,
  grafanaProvisioningFiles,
  PROMETHEUS_URL_ENV,
} from './provisioning.js';

const workDir = '/home/hpcuser/hpcbench';

describe('grafanaProvisioningFiles', () => {
  const files = grafanaProvisioningFiles({ workDir, prometheusUrl: 'http://127.0.0.1:9090' });
  const byPath = new Map(files.map((f) => [f.path, f.content]));

  it('puts everything under <workDir>/monitoring/grafana', () => {
    for (const { path } of files) expect(path.startsWith(`${workDir}/monitoring/grafana/`)).toBe(true);
    expect(new Set(files.map((f) => f.path)).size).toBe(files.length);
  });

  it('provisions one Prometheus datasource with the uid the dashboards use', () => {
    const content = byPath.get(
      `${workDir}/monitoring/grafana/provisioning/datasources/inference-benchmark-operator.yaml`,
    );
    const { datasources } = parse(content ?? '');
    expect(datasources).toHaveLength(1);
    expect(datasources[0]).toMatchObject({
      uid: DATASOURCE_UID,
      type: 'prometheus',
      url: 'http://127.0.0.1:9090',
    });
  });

  it('by default names the URL the monitoring job exports, since Prometheus picks its port at run time', () => {
    const [datasource] = grafanaProvisioningFiles({ workDir });
    expect(parse(datasource?.content ?? '').datasources[0].url).toBe(`\${${PROMETHEUS_URL_ENV}}`);
  });

  it('rejects a prometheusUrl that is neither a URL nor an environment reference', () => {
    expect(() => grafanaProvisioningFiles({ workDir, prometheusUrl: '$(reboot)' })).toThrow(
      /environment reference/,
    );
  });

  it('points the dashboard provider at the folder the five dashboards are uploaded to', () => {
    const content = byPath.get(
      `${workDir}/monitoring/grafana/provisioning/dashboards/inference-benchmark-operator.yaml`,
    );
    const { providers } = parse(content ?? '');
    const folder = providers[0].options.path;
    const dashboards = files.filter((f) => f.path.startsWith(`${folder}/`) && f.path.endsWith('.json'));
    expect(dashboards).toHaveLength(5);
    for (const d of dashboards) expect(() => JSON.parse(d.content)).not.toThrow();
  });

  it('holds no credentials', () => {
    for (const { content } of files) expect(content).not.toMatch(/password|secureJsonData|basicAuth|bearer/i);
  });
});

describe('grafanaEnvironment', () => {
  const environment = grafanaEnvironment({ workDir, dataDir: '/tmp/grafana-42' });

  it('reads the admin credentials from files the operator writes, never from a value', () => {
    expect(environment.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe(
      `${workDir}/monitoring/secrets/grafana-admin-password`,
    );
    expect(environment.GF_SECURITY_ADMIN_USER__FILE).toBe(`${workDir}/monitoring/secrets/grafana-admin-user`);
    expect(environment).not.toHaveProperty('GF_SECURITY_ADMIN_PASSWORD');
  });

  it('turns off every call home', () => {
    expect(environment).toMatchObject({
      GF_ANALYTICS_REPORTING_ENABLED: 'false',
      GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
      GF_NEWS_NEWS_FEED_ENABLED: 'false',
    });
  });

  it('exports values verbatim through a real shell, hostile ones included', () => {
    const hostile = `/tmp/it's $(touch /tmp/pwned) "x"`;
    const script = `${exportLines({ ...environment, GF_PATHS_DATA: hostile })}\nprintf '%s' "$GF_PATHS_DATA"`;
    const run = spawnSync('bash', ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(run.stdout).toBe(hostile);
    expect(() => exportLines({ 'BAD NAME': 'x' })).toThrow();
  });
});
