import { TARGET_ROLES } from '../layout.js';
import { buildDashboard, type Dashboard, labelValuesVariable } from './dashboard-model.js';

/**
 * Node exporter dashboards, one for the nodes that run Ollama and one for the client-service nodes. Targets
 * are told apart by the `role` label each job puts on its file_sd entry.
 */

// `server` (the InferenceBenchmark's name for the Ollama job's role) is accepted too.
const OLLAMA_ROLES = `${TARGET_ROLES.ollama}|server`;
const CLIENT_ROLES = TARGET_ROLES.client;

// Virtual interfaces and pseudo file systems only add noise on shared HPC nodes.
const REAL_NICS = 'device!~"lo|veth.*|docker.*|br-.*|virbr.*|cni.*|flannel.*"';
const REAL_FILESYSTEMS = 'fstype!~"tmpfs|overlay|squashfs|nsfs|ramfs|devtmpfs|fuse.*"';

function nodeDashboard(uid: string, title: string, roles: string, who: string): Dashboard {
  const base = `job="node", role=~"${roles}"`;
  const sel = `${base}, benchmark=~"$benchmark", node=~"$node"`;
  return buildDashboard({
    uid,
    title,
    description: `Host metrics (node-exporter) of the ${who}, one series per node.`,
    tags: ['node-exporter'],
    variables: [
      labelValuesVariable('benchmark', 'Benchmark', `node_uname_info{${base}}`),
      labelValuesVariable('node', 'Node', `node_uname_info{${base}, benchmark=~"$benchmark"}`),
    ],
    panels: [
      {
        type: 'stat',
        title: 'Nodes up',
        description: 'Node exporters Prometheus scrapes successfully right now.',
        width: 6,
        queries: [{ expr: `sum(up{${sel}})` }],
      },
      {
        type: 'stat',
        title: 'CPU cores',
        description: 'Logical CPUs across the selected nodes.',
        width: 6,
        queries: [{ expr: `count(node_cpu_seconds_total{${sel}, mode="idle"})` }],
      },
      {
        type: 'stat',
        title: 'Memory',
        description: 'Physical memory across the selected nodes.',
        width: 6,
        unit: 'bytes',
        queries: [{ expr: `sum(node_memory_MemTotal_bytes{${sel}})` }],
      },
      {
        type: 'stat',
        title: 'Uptime',
        description: 'Time since the most recently booted node started.',
        width: 6,
        unit: 's',
        queries: [{ expr: `min(time() - node_boot_time_seconds{${sel}})` }],
      },
      {
        title: 'CPU busy',
        description: 'Share of CPU time not idle, per node.',
        unit: 'percent',
        min: 0,
        max: 100,
        queries: [
          {
            expr: `100 * (1 - avg by (node) (rate(node_cpu_seconds_total{${sel}, mode="idle"}[$__rate_interval])))`,
            legend: '{{node}}',
          },
        ],
      },
      {
        title: 'CPU by mode',
        description:
          'Cores spent per CPU mode, summed over the selected nodes (iowait shows storage stalls).',
        unit: 'short',
        queries: [
          {
            expr: `sum by (mode) (rate(node_cpu_seconds_total{${sel}, mode!="idle"}[$__rate_interval]))`,
            legend: '{{mode}}',
          },
        ],
      },
      {
        title: 'Load average',
        description: '1, 5 and 15 minute load per node.',
        queries: [
          { expr: `node_load1{${sel}}`, legend: '{{node}} 1m' },
          { expr: `node_load5{${sel}}`, legend: '{{node}} 5m' },
          { expr: `node_load15{${sel}}`, legend: '{{node}} 15m' },
        ],
      },
      {
        title: 'Memory used',
        description: 'Memory in use (total minus available), per node.',
        unit: 'percent',
        min: 0,
        max: 100,
        queries: [
          {
            expr: `100 * (1 - node_memory_MemAvailable_bytes{${sel}} / node_memory_MemTotal_bytes{${sel}})`,
            legend: '{{node}}',
          },
        ],
      },
      {
        title: 'Network traffic',
        description: 'Bytes per second received (positive) and sent (negative) on physical interfaces.',
        unit: 'Bps',
        queries: [
          {
            expr: `sum by (node) (rate(node_network_receive_bytes_total{${sel}, ${REAL_NICS}}[$__rate_interval]))`,
            legend: '{{node}} received',
          },
          {
            expr: `-sum by (node) (rate(node_network_transmit_bytes_total{${sel}, ${REAL_NICS}}[$__rate_interval]))`,
            legend: '{{node}} sent',
          },
        ],
      },
      {
        title: 'Disk throughput',
        description: 'Bytes per second read (positive) and written (negative), per node.',
        unit: 'Bps',
        queries: [
          {
            expr: `sum by (node) (rate(node_disk_read_bytes_total{${sel}}[$__rate_interval]))`,
            legend: '{{node}} read',
          },
          {
            expr: `-sum by (node) (rate(node_disk_written_bytes_total{${sel}}[$__rate_interval]))`,
            legend: '{{node}} written',
          },
        ],
      },
      {
        title: 'File system used',
        description: 'Used share of each real file system (model stores fill up fast).',
        unit: 'percent',
        min: 0,
        max: 100,
        queries: [
          {
            expr:
              `100 * (1 - node_filesystem_avail_bytes{${sel}, ${REAL_FILESYSTEMS}}` +
              ` / node_filesystem_size_bytes{${sel}, ${REAL_FILESYSTEMS}})`,
            legend: '{{node}} {{mountpoint}}',
          },
        ],
      },
      {
        title: 'Context switches and interrupts',
        description: 'Per second, per node; a jump often means the node is oversubscribed.',
        queries: [
          {
            expr: `rate(node_context_switches_total{${sel}}[$__rate_interval])`,
            legend: '{{node}} switches',
          },
          { expr: `rate(node_intr_total{${sel}}[$__rate_interval])`, legend: '{{node}} interrupts' },
        ],
      },
    ],
  });
}

export function ollamaNodesDashboard(): Dashboard {
  return nodeDashboard(
    'ibo-nodes-ollama',
    'Ollama nodes (node exporter)',
    OLLAMA_ROLES,
    'nodes running Ollama',
  );
}

export function clientNodesDashboard(): Dashboard {
  return nodeDashboard(
    'ibo-nodes-client',
    'Client nodes (node exporter)',
    CLIENT_ROLES,
    'nodes running the client service',
  );
}
