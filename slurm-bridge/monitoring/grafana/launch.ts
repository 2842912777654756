import { posix } from 'node:path';
import { z } from 'zod';
import { shellQuote } from '../../shell/quote.js';
import { grafanaAdminPasswordFile, grafanaAdminUserFile, monitoringDir } from '../layout.js';
import { ShellText, shellWord } from '../shell-text.js';
import { exportLines, grafanaEnvironment } from './provisioning.js';

/**
 * The Grafana part of the monitoring job script. Grafana is optional: many clusters (and the sandbox)
 * have neither a Grafana binary nor an image, and Prometheus with the Pushgateway is still useful
 * without it, so the snippet says so on stderr and carries on. After it, `$grafana_pid` and
 * `$grafana_endpoint` are set when Grafana was started and empty otherwise.
 */

export const GrafanaLaunchOptions = z.object({
  workDir: z.string().startsWith('/'),
  httpAddr: ShellText.default('127.0.0.1'),
  httpPort: ShellText,
  /** Job-local data folder (SQLite, sessions, logs). */
  dataDir: ShellText,
  /** A Grafana image (SIF) to run with apptainer/singularity when the node has no Grafana binary. */
  image: z.string().min(1).optional(),
  containerRuntime: z.enum(['apptainer', 'singularity', 'native']).default('native'),
  /** Grafana's install folder (public/, conf/); found next to the binary or in /usr/share/grafana if unset. */
  homepath: z.string().startsWith('/').optional(),
});
export type GrafanaLaunchOptions = z.input<typeof GrafanaLaunchOptions>;

const LOG = '"$grafana_data/grafana.out"';

export function grafanaLaunchSnippet(options: GrafanaLaunchOptions): string {
  const opts = GrafanaLaunchOptions.parse(options);
  const passwordFile = shellQuote(grafanaAdminPasswordFile(opts.workDir));
  const userFile = shellQuote(grafanaAdminUserFile(opts.workDir));
  const secretsDir = shellQuote(posix.dirname(grafanaAdminPasswordFile(opts.workDir)));
  const useImage = opts.image !== undefined && opts.containerRuntime !== 'native';
  const runtime = shellQuote(opts.containerRuntime);
  const image = shellQuote(opts.image ?? '');
  return [
    'grafana_pid=',
    'grafana_endpoint=',
    'grafana_cmd=()',
    `grafana_data=${shellWord(opts.dataDir)}`,
    useImage
      ? // The container sees the provisioning tree and the secrets at the same paths as the host.
        `if command -v ${runtime} >/dev/null 2>&1 && [ -e ${image} ]; then grafana_cmd=(${runtime} exec --bind ${shellQuote(monitoringDir(opts.workDir))} --bind "$grafana_data" ${image} grafana server --homepath /usr/share/grafana); fi`
      : ':',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash array expansion
    'if [ "${#grafana_cmd[@]}" -eq 0 ]; then',
    '  for grafana_bin in grafana grafana-server; do',
    '    command -v "$grafana_bin" >/dev/null 2>&1 || continue',
    `    grafana_home=${shellQuote(opts.homepath ?? '')}`,
    '    if [ -z "$grafana_home" ]; then',
    '      grafana_home=$(dirname "$(dirname "$(readlink -f "$(command -v "$grafana_bin")")")")',
    '      [ -d "$grafana_home/public" ] || grafana_home=/usr/share/grafana',
    '    fi',
    // `grafana server` is the single binary of Grafana ≥ 10; grafana-server is the older name.
    '    if [ "$grafana_bin" = grafana ]; then grafana_cmd=(grafana server); else grafana_cmd=(grafana-server); fi',
    '    grafana_cmd+=(--homepath "$grafana_home")',
    '    break',
    '  done',
    'fi',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash array expansion
    'if [ "${#grafana_cmd[@]}" -eq 0 ]; then',
    `  echo ${shellQuote('Grafana: no grafana binary or image on this node; running Prometheus and the Pushgateway without it')} >&2`,
    'else',
    '  mkdir -p "$grafana_data"',
    // No Secret configured: a random password that stays on the cluster, readable by the user only.
    `  if [ ! -s ${passwordFile} ]; then (umask 077; mkdir -p ${secretsDir}; head -c 24 /dev/urandom | base64 | tr -d '/+=\\n' > ${passwordFile}); fi`,
    `  if [ ! -s ${userFile} ]; then (umask 077; printf admin > ${userFile}); fi`,
    '  (',
    exportLines(grafanaEnvironment({ workDir: opts.workDir }))
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n'),
    `    export GF_SERVER_HTTP_ADDR=${shellWord(opts.httpAddr)} GF_SERVER_HTTP_PORT=${shellWord(opts.httpPort)}`,
    '    export GF_PATHS_DATA="$grafana_data" GF_PATHS_LOGS="$grafana_data/log"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash array expansion
    '    exec "${grafana_cmd[@]}"',
    `  ) >${LOG} 2>&1 &`,
    '  grafana_pid=$!',
    `  grafana_endpoint=${shellWord([...toParts(opts.httpAddr), ':', ...toParts(opts.httpPort)])}`,
    'fi',
  ].join('\n');
}

function toParts(text: ShellText): Exclude<ShellText, unknown[]>[] {
  return Array.isArray(text) ? text : [text];
}
