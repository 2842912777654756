import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { grafanaLaunchSnippet } from './launch.js';

// A stub `grafana` on PATH records how it was started; a real Grafana is not needed to test the launcher.
const STUB = `#!/bin/bash
{ printf 'args=%s\\n' "$*"; env | grep '^GF_' | sort; } > "$STUB_RECORD"
`;

let dir: string;
let bin: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'grafana-launch-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function runJob(snippet: string): { status: number | null; stdout: string; stderr: string } {
  const script = `set -euo pipefail\ngrafana_port=4321\n${snippet}\n[ -z "$grafana_pid" ] || wait "$grafana_pid"\necho "pid=\${grafana_pid:-none} endpoint=\${grafana_endpoint:-none}"`;
  const result = spawnSync('bash', ['-c', script], {
    env: { PATH: `${bin}:/usr/bin:/bin`, STUB_RECORD: join(dir, 'record') },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const options = () => ({
  workDir: join(dir, 'work'),
  httpPort: { shellVar: 'grafana_port' },
  dataDir: join(dir, 'grafana-data'),
  homepath: '/opt/grafana',
});

describe('grafanaLaunchSnippet', () => {
  it.skipIf(spawnSync('bash', ['-c', 'command -v grafana || command -v grafana-server']).status === 0)(
    'skips Grafana cleanly where there is neither a binary nor an image',
    () => {
      const run = runJob(
        grafanaLaunchSnippet({ ...options(), image: '/nope.sif', containerRuntime: 'apptainer' }),
      );
      expect(run.status).toBe(0);
      expect(run.stderr).toContain('Grafana: no grafana binary or image');
      expect(run.stdout.trim()).toBe('pid=none endpoint=none');
    },
  );

  it('starts `grafana server` with the provisioning tree and the admin credentials from files', () => {
    writeFileSync(join(bin, 'grafana'), STUB);
    chmodSync(join(bin, 'grafana'), 0o755);
    const run = runJob(grafanaLaunchSnippet(options()));
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^pid=\d+ endpoint=127\.0\.0\.1:4321$/m);
    const record = readFileSync(join(dir, 'record'), 'utf8');
    expect(record).toContain('args=server --homepath /opt/grafana');
    expect(record).toContain(`GF_PATHS_PROVISIONING=${dir}/work/monitoring/grafana/provisioning`);
    expect(record).toContain(
      `GF_SECURITY_ADMIN_PASSWORD__FILE=${dir}/work/monitoring/secrets/grafana-admin-password`,
    );
    expect(record).toContain('GF_SERVER_HTTP_PORT=4321');
    expect(record).toContain(`GF_PATHS_DATA=${dir}/grafana-data`);
    expect(record).not.toMatch(/^GF_SECURITY_ADMIN_PASSWORD=/m);
  });

  it('creates a random admin password readable only by the user when the operator wrote none', () => {
    writeFileSync(join(bin, 'grafana-server'), STUB);
    chmodSync(join(bin, 'grafana-server'), 0o755);
    expect(runJob(grafanaLaunchSnippet(options())).status).toBe(0);
    const passwordFile = join(dir, 'work', 'monitoring', 'secrets', 'grafana-admin-password');
    expect(readFileSync(passwordFile, 'utf8')).toMatch(/^[A-Za-z0-9]{20,}$/);
    expect(statSync(passwordFile).mode & 0o077).toBe(0);
    expect(readFileSync(join(dir, 'record'), 'utf8')).toContain('args=--homepath /opt/grafana');
  });

  it('keeps the password the operator wrote from the Secret', () => {
    writeFileSync(join(bin, 'grafana'), STUB);
    chmodSync(join(bin, 'grafana'), 0o755);
    const secrets = join(dir, 'work', 'monitoring', 'secrets');
    mkdirSync(secrets, { recursive: true });
    writeFileSync(join(secrets, 'grafana-admin-password'), 'from-the-secret', { mode: 0o600 });
    expect(runJob(grafanaLaunchSnippet(options())).status).toBe(0);
    expect(readFileSync(join(secrets, 'grafana-admin-password'), 'utf8')).toBe('from-the-secret');
  });
});
