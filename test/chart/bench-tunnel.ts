import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { createLogger } from '../../operator/runtime/logger.js';
import { MonitoringTunnel } from '../../operator/tunnel/monitoring-tunnel.js';
import { SshConnection } from '../../slurm-bridge/ssh/connection.js';
import { requireHpc } from '../sandbox/description.js';
import { cancelJobs, jobScript, submitJob, waitForEndpoints } from '../support/slurm.js';

/**
 * What the tunnel costs: latency of Prometheus' /-/ready directly on loopback vs through the tunnel (one SSH
 * connection, a direct-tcpip channel per TCP connection), with a kept-alive connection and with a new TCP
 * connection (so a new channel) per request. Needs only the HPC half of the sandbox.
 *   npx tsx test/chart/bench-tunnel.ts [requests=200]
 */
const requests = Number(process.argv[2] ?? 200);
const hpc = requireHpc();

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(label: string, url: string, keepAlive: boolean): Promise<void> {
  const dispatcher = new Agent(keepAlive ? { keepAliveTimeout: 30_000 } : { pipelining: 0 });
  const samples: number[] = [];
  for (let i = 0; i < requests + 10; i += 1) {
    const start = performance.now();
    const response = await request(url, {
      dispatcher,
      headers: keepAlive ? {} : { connection: 'close' },
    });
    await response.body.text();
    if (response.statusCode !== 200) throw new Error(`${label}: HTTP ${response.statusCode}`);
    if (i >= 10) samples.push(performance.now() - start); // the first 10 warm up
  }
  await dispatcher.close();
  samples.sort((a, b) => a - b);
  console.log(
    `${label.padEnd(44)} n=${samples.length}  p50 ${percentile(samples, 50).toFixed(2)} ms  p90 ${percentile(samples, 90).toFixed(2)} ms  p99 ${percentile(samples, 99).toFixed(2)} ms`,
  );
}

const jobId = await submitJob(hpc.ssh, jobScript('prometheus'), ['--partition=cpu']);
try {
  const endpoints = await waitForEndpoints(hpc, jobId);
  const prometheus = endpoints.prometheus ?? '';
  const cluster = {
    metadata: { name: 'bench', namespace: 'bench' },
    spec: {
      host: hpc.ssh.host,
      port: hpc.ssh.port,
      user: hpc.ssh.user,
      sshSecretRef: { name: 'unused', privateKeyKey: 'privateKey', knownHostsKey: 'knownHosts' },
    },
    status: { monitoring: { jobId, prometheus } },
  };
  const tunnel = new MonitoringTunnel({
    namespace: 'bench',
    clusterName: 'bench',
    bindHost: '127.0.0.1',
    grafanaPort: 0,
    prometheusPort: 0,
    clusters: { list: () => [cluster], onChange: () => undefined },
    readSecret: async () => ({
      privateKey: readFileSync(hpc.ssh.privateKeyPath, 'utf8'),
      knownHosts: readFileSync(hpc.ssh.knownHostsPath, 'utf8'),
    }),
    openConnection: (options) => new SshConnection(options),
    logger: createLogger({ level: 'warn' }),
  });
  await tunnel.start();
  const local = tunnel.readiness().ports.prometheus;
  console.log(
    `Prometheus of job ${jobId} at ${prometheus}; tunnel on 127.0.0.1:${local}; ${requests} requests each`,
  );
  await measure('direct, kept-alive connection', `http://${prometheus}/-/ready`, true);
  await measure('through the tunnel, kept-alive connection', `http://127.0.0.1:${local}/-/ready`, true);
  await measure('direct, new connection per request', `http://${prometheus}/-/ready`, false);
  await measure('through the tunnel, new channel per request', `http://127.0.0.1:${local}/-/ready`, false);
  await tunnel.stop();
} finally {
  await cancelJobs(hpc.ssh, [jobId]);
}
