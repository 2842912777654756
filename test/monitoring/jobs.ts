import { posix } from 'node:path';
import { fileSdRegistration } from '../../slurm-bridge/monitoring/file-sd.js';
import { TARGET_ROLES } from '../../slurm-bridge/monitoring/layout.js';
import { shellQuote } from '../../slurm-bridge/shell/quote.js';

/**
 * The one job script the monitoring test writes itself: a stand-in model server for a sandbox without an
 * Ollama build. It runs the project's synthetic token server (test/synthetic-ollama, the same NDJSON API)
 * and, like slurm-bridge/engines/ollama/job-script.ts, a node-exporter registered through file_sd as role `ollama`.
 * With real Ollama the test uses slurm-bridge's ollamaJobScript instead.
 */
export interface SyntheticServerJob {
  targetsDir: string;
  /** Receives `host:port` once the server answers, as ollamaJobScript's endpoint file does. */
  endpointFile: string;
  bundleFile: string;
  benchmark: string;
  model: string;
}

export function syntheticServerJob(job: SyntheticServerJob): string {
  const node = fileSdRegistration({
    targetsDir: job.targetsDir,
    kind: 'node',
    role: TARGET_ROLES.ollama,
    target: [{ shellVar: 'host' }, ':', { shellVar: 'node_port' }],
    labels: { benchmark: job.benchmark, model: job.model },
  });
  const endpoint = shellQuote(job.endpointFile);
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    'host=127.0.0.1',
    `free_port() { node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }`,
    // A server that never answers fails the job within a minute instead of hanging until the time limit.
    'wait_ready() { for _ in $(seq 600); do curl -fsS -o /dev/null --noproxy "*" "$1" && return 0; sleep 0.1; done; echo "never ready: $1" >&2; return 1; }',
    `cleanup() { ${node.unregister}; rm -f -- ${endpoint}; }`,
    'trap cleanup EXIT',
    "trap 'exit 143' TERM INT",
    `mkdir -p -- ${shellQuote(posix.dirname(job.endpointFile))}`,
    'server_port=$(free_port)',
    `node ${shellQuote(job.bundleFile)} --port "$server_port" --first-token-delay-ms 40 --inter-token-delay-ms 10 --token-count 24 &`,
    'wait_ready "http://$host:$server_port/api/version"',
    'node_port=$(free_port)',
    // Without systemd every scrape would log an error from the systemd collector.
    'prometheus-node-exporter --web.listen-address="$host:$node_port" --no-collector.systemd &',
    'wait_ready "http://$host:$node_port/metrics"',
    node.register,
    `printf '%s:%s\\n' "$host" "$server_port" >${endpoint}.tmp && mv -f -- ${endpoint}.tmp ${endpoint}`,
    'wait -n',
  ].join('\n');
}
