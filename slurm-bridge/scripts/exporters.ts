import { HOST_VAR } from './common.js';

/** node-exporter beside the service, when installed (Debian names it prometheus-node-exporter). */
export function nodeExporterBlock(register: string): string {
  return [
    'IBO_NODE_EXPORTER=$(command -v node_exporter || command -v prometheus-node-exporter || true)',
    'if [ -n "$IBO_NODE_EXPORTER" ]; then',
    '  IBO_NODE_EXPORTER_PORT=$(ibo_free_port)',
    `  "$IBO_NODE_EXPORTER" --web.listen-address="$${HOST_VAR}:$IBO_NODE_EXPORTER_PORT" --no-collector.systemd >/dev/null 2>&1 &`,
    `  ibo_wait_tcp "$${HOST_VAR}" "$IBO_NODE_EXPORTER_PORT" 60`,
    register.trimEnd(),
    'else',
    '  echo "node-exporter not installed; node metrics skipped" >&2',
    'fi',
    '',
  ].join('\n');
}

export function dcgmBlock(gpu: boolean, register: string): string {
  if (!gpu) return '';
  return [
    'if command -v dcgm-exporter >/dev/null 2>&1; then',
    '  IBO_DCGM_PORT=$(ibo_free_port)',
    `  dcgm-exporter --address "$${HOST_VAR}:$IBO_DCGM_PORT" >/dev/null 2>&1 &`,
    `  ibo_wait_tcp "$${HOST_VAR}" "$IBO_DCGM_PORT" 60`,
    register.trimEnd(),
    'else',
    '  echo "dcgm-exporter not installed; GPU metrics skipped" >&2',
    'fi',
    '',
  ].join('\n');
}
