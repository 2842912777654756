import { buildDashboard, type Dashboard, labelValuesVariable } from './dashboard-model.js';

/**
 * cAdvisor: per-container resources, for sites that run the jobs in containers and run cAdvisor beside
 * them (its targets go in targets/cadvisor/). `name!=""` keeps the cgroup hierarchy's aggregate series out.
 */
export function cadvisorDashboard(): Dashboard {
  const base = 'job="cadvisor"';
  const sel = `${base}, node=~"$node", name=~"$container", name!=""`;
  return buildDashboard({
    uid: 'ibo-cadvisor',
    title: 'Containers (cAdvisor)',
    description: 'CPU, memory, network and file system use per container, from cAdvisor.',
    tags: ['cadvisor'],
    variables: [
      labelValuesVariable('node', 'Node', `container_last_seen{${base}}`),
      labelValuesVariable('container', 'Container', `container_last_seen{${base}, node=~"$node"}`, 'name'),
    ],
    panels: [
      {
        type: 'stat',
        title: 'Running containers',
        description: 'Containers cAdvisor reports on the selected nodes.',
        width: 8,
        queries: [{ expr: `count(container_last_seen{${sel}})` }],
      },
      {
        type: 'stat',
        title: 'CPU in use',
        description: 'Cores used by the selected containers together.',
        width: 8,
        queries: [{ expr: `sum(rate(container_cpu_usage_seconds_total{${sel}}[$__rate_interval]))` }],
      },
      {
        type: 'stat',
        title: 'Memory in use',
        description: 'Working set of the selected containers together.',
        width: 8,
        unit: 'bytes',
        queries: [{ expr: `sum(container_memory_working_set_bytes{${sel}})` }],
      },
      {
        title: 'CPU per container',
        description: 'Cores used per container.',
        queries: [
          {
            expr: `sum by (node, name) (rate(container_cpu_usage_seconds_total{${sel}}[$__rate_interval]))`,
            legend: '{{node}} {{name}}',
          },
        ],
      },
      {
        title: 'CPU throttling',
        description: 'Seconds per second a container was throttled by its CPU quota.',
        unit: 's',
        queries: [
          {
            expr: `sum by (node, name) (rate(container_cpu_cfs_throttled_seconds_total{${sel}}[$__rate_interval]))`,
            legend: '{{node}} {{name}}',
          },
        ],
      },
      {
        title: 'Memory working set per container',
        description: 'Memory the kernel cannot reclaim; what the OOM killer looks at.',
        unit: 'bytes',
        queries: [
          {
            expr: `sum by (node, name) (container_memory_working_set_bytes{${sel}})`,
            legend: '{{node}} {{name}}',
          },
        ],
      },
      {
        title: 'Memory RSS and cache per container',
        description: 'Resident set and page cache (a model file read through the cache shows here).',
        unit: 'bytes',
        queries: [
          { expr: `sum by (node, name) (container_memory_rss{${sel}})`, legend: '{{node}} {{name}} rss' },
          { expr: `sum by (node, name) (container_memory_cache{${sel}})`, legend: '{{node}} {{name}} cache' },
        ],
      },
      {
        title: 'Network per container',
        description: 'Bytes per second received (positive) and sent (negative).',
        unit: 'Bps',
        queries: [
          {
            expr: `sum by (node, name) (rate(container_network_receive_bytes_total{${sel}}[$__rate_interval]))`,
            legend: '{{node}} {{name}} received',
          },
          {
            expr: `-sum by (node, name) (rate(container_network_transmit_bytes_total{${sel}}[$__rate_interval]))`,
            legend: '{{node}} {{name}} sent',
          },
        ],
      },
      {
        title: 'File system I/O per container',
        description: 'Bytes per second read (positive) and written (negative).',
        unit: 'Bps',
        queries: [
          {
            expr: `sum by (node, name) (rate(container_fs_reads_bytes_total{${sel}}[$__rate_interval]))`,
            legend: '{{node}} {{name}} read',
          },
          {
            expr: `-sum by (node, name) (rate(container_fs_writes_bytes_total{${sel}}[$__rate_interval]))`,
            legend: '{{node}} {{name}} written',
          },
        ],
      },
    ],
  });
}
