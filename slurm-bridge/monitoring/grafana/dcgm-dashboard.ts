import { buildDashboard, type Dashboard, labelValuesVariable } from './dashboard-model.js';

/**
 * NVIDIA DCGM exporter: GPU utilisation, memory, power, temperature and clocks, one series per GPU. The
 * exporter labels GPUs with `gpu` (index) and `UUID`; our file_sd entry adds node and benchmark.
 */
export function dcgmDashboard(): Dashboard {
  const base = 'job="dcgm"';
  const sel = `${base}, benchmark=~"$benchmark", node=~"$node", gpu=~"$gpu"`;
  const perGpu = '{{node}} GPU {{gpu}}';
  return buildDashboard({
    uid: 'ibo-dcgm',
    title: 'NVIDIA GPUs (DCGM)',
    description: 'GPU metrics from the NVIDIA DCGM exporter running beside Ollama.',
    tags: ['dcgm', 'gpu'],
    variables: [
      labelValuesVariable('benchmark', 'Benchmark', `DCGM_FI_DEV_GPU_UTIL{${base}}`),
      labelValuesVariable('node', 'Node', `DCGM_FI_DEV_GPU_UTIL{${base}, benchmark=~"$benchmark"}`),
      labelValuesVariable(
        'gpu',
        'GPU',
        `DCGM_FI_DEV_GPU_UTIL{${base}, benchmark=~"$benchmark", node=~"$node"}`,
      ),
    ],
    panels: [
      {
        type: 'stat',
        title: 'GPUs',
        description: 'GPUs reporting on the selected nodes.',
        width: 6,
        queries: [{ expr: `count(DCGM_FI_DEV_GPU_UTIL{${sel}})` }],
      },
      {
        type: 'gauge',
        title: 'Average GPU utilisation',
        description: 'Mean utilisation of the selected GPUs.',
        width: 6,
        unit: 'percent',
        min: 0,
        max: 100,
        queries: [{ expr: `avg(DCGM_FI_DEV_GPU_UTIL{${sel}})` }],
      },
      {
        type: 'stat',
        title: 'Power draw',
        description: 'Power of the selected GPUs together.',
        width: 6,
        unit: 'watt',
        queries: [{ expr: `sum(DCGM_FI_DEV_POWER_USAGE{${sel}})` }],
      },
      {
        type: 'stat',
        title: 'Framebuffer used',
        description: 'GPU memory in use across the selected GPUs (DCGM reports MiB).',
        width: 6,
        unit: 'decmbytes',
        queries: [{ expr: `sum(DCGM_FI_DEV_FB_USED{${sel}})` }],
      },
      {
        title: 'GPU utilisation',
        description: 'Share of time a kernel was running, per GPU.',
        unit: 'percent',
        min: 0,
        max: 100,
        queries: [{ expr: `DCGM_FI_DEV_GPU_UTIL{${sel}}`, legend: perGpu }],
      },
      {
        title: 'Memory copy utilisation',
        description: 'Share of time the memory controller was busy, per GPU; high during prompt processing.',
        unit: 'percent',
        min: 0,
        max: 100,
        queries: [{ expr: `DCGM_FI_DEV_MEM_COPY_UTIL{${sel}}`, legend: perGpu }],
      },
      {
        title: 'Framebuffer memory',
        description: 'Used share of GPU memory per GPU: the loaded model plus its KV cache.',
        unit: 'percent',
        min: 0,
        max: 100,
        queries: [
          {
            expr: `100 * DCGM_FI_DEV_FB_USED{${sel}} / (DCGM_FI_DEV_FB_USED{${sel}} + DCGM_FI_DEV_FB_FREE{${sel}})`,
            legend: perGpu,
          },
        ],
      },
      {
        title: 'Power',
        description: 'Power draw per GPU.',
        unit: 'watt',
        queries: [{ expr: `DCGM_FI_DEV_POWER_USAGE{${sel}}`, legend: perGpu }],
      },
      {
        title: 'Temperature',
        description: 'GPU and memory temperature per GPU.',
        unit: 'celsius',
        queries: [
          { expr: `DCGM_FI_DEV_GPU_TEMP{${sel}}`, legend: `${perGpu} core` },
          { expr: `DCGM_FI_DEV_MEMORY_TEMP{${sel}}`, legend: `${perGpu} memory` },
        ],
      },
      {
        title: 'Clocks',
        description: 'SM and memory clocks per GPU; a drop under load means thermal or power throttling.',
        unit: 'MHz',
        queries: [
          { expr: `DCGM_FI_DEV_SM_CLOCK{${sel}}`, legend: `${perGpu} SM` },
          { expr: `DCGM_FI_DEV_MEM_CLOCK{${sel}}`, legend: `${perGpu} memory` },
        ],
      },
      {
        title: 'Tensor core activity',
        description: 'Share of cycles the tensor pipes were active (profiling metric; absent on some GPUs).',
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [{ expr: `DCGM_FI_PROF_PIPE_TENSOR_ACTIVE{${sel}}`, legend: perGpu }],
      },
      {
        title: 'XID errors',
        description: 'Last XID error code per GPU; anything but 0 deserves a look at the node.',
        queries: [{ expr: `DCGM_FI_DEV_XID_ERRORS{${sel}}`, legend: perGpu }],
      },
    ],
  });
}
