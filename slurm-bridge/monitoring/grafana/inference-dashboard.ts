import {
  buildDashboard,
  type Dashboard,
  labelValuesVariable,
  type PanelSpec,
  TPS_THRESHOLDS,
} from './dashboard-model.js';

/**
 * The benchmark dashboard: the old "tokens per second" board (average TPS by model over time, a model
 * comparison, red < 30 / yellow 30–80 / green > 80) extended with latency percentiles, request rate and
 * errors. It reads what the client service pushes to the Pushgateway (client-service/engine/run-pusher.ts),
 * grouped by {benchmark, run}; each run pushes from a fresh registry, so a run's counters start at zero.
 */

/** Metric names the client service pushes; the integration test pushes through the real pusher. */
export const CLIENT_METRICS = {
  legacyTps: 'tokens_per_second',
  requests: 'ibo_client_requests_total',
  outputTokens: 'ibo_client_output_tokens_total',
  ttft: 'ibo_client_ttft_seconds',
  itl: 'ibo_client_itl_seconds',
  tpot: 'ibo_client_tpot_seconds',
  e2e: 'ibo_client_e2e_seconds',
  decodeTps: 'ibo_client_decode_tokens_per_second',
  completed: 'ibo_client_run_completed_requests',
  total: 'ibo_client_run_total_requests',
  inFlight: 'ibo_client_run_in_flight_requests',
} as const;

const SEL = 'benchmark=~"$benchmark", run=~"$run"';
const QUANTILES = [0.5, 0.9, 0.95, 0.99] as const;

/**
 * Percentiles from the run's cumulative buckets (no rate): the whole run's distribution so far, which is
 * what the summary reports and what stays readable after the run ends and the counters stop moving.
 */
function percentileQueries(histogram: string): { expr: string; legend: string }[] {
  return QUANTILES.map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le, model) (${histogram}_bucket{${SEL}}))`,
    legend: `p${Math.round(q * 100)} {{model}}`,
  }));
}

function meanQuery(histogram: string): { expr: string; legend: string } {
  return {
    expr: `sum by (model) (${histogram}_sum{${SEL}}) / sum by (model) (${histogram}_count{${SEL}})`,
    legend: 'mean {{model}}',
  };
}

export function inferenceDashboard(): Dashboard {
  const m = CLIENT_METRICS;
  return buildDashboard({
    uid: 'ibo-inference',
    title: 'Inference benchmark: tokens per second and latency',
    description:
      'Tokens per second by model (red < 30, yellow 30–80, green > 80), latency percentiles (TTFT, ITL, TPOT, ' +
      'end to end), request rate and errors of the benchmark runs pushed by the client service.',
    tags: ['benchmark', 'tokens-per-second'],
    variables: [
      labelValuesVariable('benchmark', 'Benchmark', m.requests),
      labelValuesVariable('run', 'Run', `${m.requests}{benchmark=~"$benchmark"}`),
    ],
    panels: [
      {
        title: 'Average TPS by model',
        description:
          'Mean over clients of each client’s last request tokens/s (eval_count / end-to-end time), as the old ' +
          'dashboard showed it.',
        width: 16,
        unit: 'short',
        min: 0,
        thresholds: TPS_THRESHOLDS,
        queries: [{ expr: `avg by (model) (${m.legacyTps}{${SEL}})`, legend: '{{model}}' }],
      },
      {
        type: 'bargauge',
        title: 'Model comparison (TPS)',
        description: 'Average TPS per model over the selected time range.',
        width: 8,
        unit: 'short',
        min: 0,
        thresholds: TPS_THRESHOLDS,
        queries: [
          { expr: `avg by (model) (avg_over_time(${m.legacyTps}{${SEL}}[$__range]))`, legend: '{{model}}' },
        ],
      },
      {
        type: 'stat',
        title: 'Average TPS now',
        description: 'Mean of every client’s last request tokens/s right now.',
        width: 5,
        unit: 'short',
        decimals: 1,
        thresholds: TPS_THRESHOLDS,
        queries: [{ expr: `avg(${m.legacyTps}{${SEL}})` }],
      },
      {
        type: 'stat',
        title: 'Output tokens per second',
        description: 'All clients together: output tokens of successful requests per second.',
        width: 5,
        unit: 'short',
        decimals: 1,
        queries: [{ expr: `sum(rate(${m.outputTokens}{${SEL}}[$__rate_interval]))` }],
      },
      {
        type: 'stat',
        title: 'Progress',
        description: 'Measured requests finished out of those planned, over the selected runs.',
        width: 5,
        unit: 'percentunit',
        decimals: 1,
        queries: [{ expr: `sum(${m.completed}{${SEL}}) / sum(${m.total}{${SEL}})` }],
      },
      {
        type: 'stat',
        title: 'Error ratio',
        description: 'Failed measured requests out of all measured requests of the selected runs.',
        width: 5,
        unit: 'percentunit',
        decimals: 2,
        thresholds: [
          { color: 'green', value: null },
          { color: 'yellow', value: 0.001 },
          { color: 'red', value: 0.01 },
        ],
        queries: [{ expr: `sum(${m.requests}{${SEL}, outcome!="success"}) / sum(${m.requests}{${SEL}})` }],
      },
      {
        type: 'stat',
        title: 'Client services up',
        description:
          'Client-service jobs whose /metrics Prometheus scrapes right now (with the scrape token).',
        width: 4,
        queries: [{ expr: 'sum(up{job="client", benchmark=~"$benchmark"})' }],
      },
      {
        title: 'Output tokens per second by model',
        description: 'Throughput of all clients together (Σ eval_count per second).',
        unit: 'short',
        min: 0,
        queries: [
          {
            expr: `sum by (model) (rate(${m.outputTokens}{${SEL}}[$__rate_interval]))`,
            legend: '{{model}}',
          },
        ],
      },
      {
        title: 'Decode speed by model',
        description:
          'Server-side decode tokens/s of the last request (eval_count / eval_duration from Ollama).',
        unit: 'short',
        min: 0,
        thresholds: TPS_THRESHOLDS,
        queries: [{ expr: `avg by (model) (${m.decodeTps}{${SEL}})`, legend: '{{model}}' }],
      },
      {
        title: 'Time to first token',
        description: 'Request sent to first content chunk; percentiles over the run so far.',
        unit: 's',
        queries: [...percentileQueries(m.ttft), meanQuery(m.ttft)],
      },
      {
        title: 'Inter-token latency',
        description: 'Gaps between consecutive content chunks; percentiles over the run so far.',
        unit: 's',
        queries: [...percentileQueries(m.itl), meanQuery(m.itl)],
      },
      {
        title: 'Time per output token',
        description: '(e2e − TTFT) / (output tokens − 1) per request; percentiles over the run so far.',
        unit: 's',
        queries: [...percentileQueries(m.tpot), meanQuery(m.tpot)],
      },
      {
        title: 'End-to-end latency',
        description: 'Request sent to final chunk; percentiles over the run so far.',
        unit: 's',
        queries: [...percentileQueries(m.e2e), meanQuery(m.e2e)],
      },
      {
        title: 'Request rate by outcome',
        description: 'Measured requests finished per second: success, or the error kind.',
        unit: 'reqps',
        min: 0,
        queries: [
          {
            expr: `sum by (outcome) (rate(${m.requests}{${SEL}}[$__rate_interval]))`,
            legend: '{{outcome}}',
          },
        ],
      },
      {
        title: 'Errors by kind',
        description:
          'Failed measured requests per second by kind: timeout, http_status, stream_error, connection.',
        unit: 'reqps',
        min: 0,
        queries: [
          {
            expr: `sum by (outcome) (rate(${m.requests}{${SEL}, outcome!="success"}[$__rate_interval]))`,
            legend: '{{outcome}}',
          },
        ],
      },
      {
        title: 'Requests in flight',
        description: 'Concurrent requests per run; below the client count means the clients are starved.',
        unit: 'short',
        min: 0,
        queries: [
          { expr: `sum by (benchmark, run) (${m.inFlight}{${SEL}})`, legend: '{{benchmark}} {{run}}' },
        ],
      },
      ...enginePanels(),
      {
        type: 'table',
        title: 'Requests per run by outcome',
        description: 'Measured requests of each run so far, by outcome.',
        unit: 'short',
        queries: [
          { expr: `sum by (benchmark, run, model, outcome) (${m.requests}{${SEL}})`, legend: '{{outcome}}' },
        ],
      },
    ],
  });
}

/**
 * The server engine's own view, from its /metrics (file_sd kind `engine`): vLLM, SGLang and llama.cpp name
 * the same three things differently, so each panel asks for all three names (Ollama exports none).
 */
const ENGINE_METRICS = {
  running: ['vllm:num_requests_running', 'sglang:num_running_reqs', 'llamacpp:requests_processing'],
  waiting: ['vllm:num_requests_waiting', 'sglang:num_queue_reqs', 'llamacpp:requests_deferred'],
  kvCache: [
    'vllm:kv_cache_usage_perc',
    'vllm:gpu_cache_usage_perc',
    'sglang:token_usage',
    'llamacpp:kv_cache_usage_ratio',
  ],
};

function engineQuery(names: readonly string[]): { expr: string; legend: string } {
  const selector = `__name__=~"${names.join('|')}", job="engine", benchmark=~"$benchmark"`;
  return {
    expr: `max by (benchmark, model, instance) ({${selector}})`,
    legend: '{{benchmark}} {{instance}}',
  };
}

function enginePanels(): PanelSpec[] {
  return [
    {
      title: 'Engine: requests running',
      description:
        'Requests the engine is decoding now (vLLM, SGLang, llama.cpp /metrics; Ollama exports none).',
      unit: 'short',
      min: 0,
      queries: [engineQuery(ENGINE_METRICS.running)],
    },
    {
      title: 'Engine: requests waiting',
      description:
        "The engine's queue: requests accepted but not yet scheduled. Growing means the server is saturated.",
      unit: 'short',
      min: 0,
      queries: [engineQuery(ENGINE_METRICS.waiting)],
    },
    {
      title: 'Engine: KV-cache use',
      description: 'Share of the KV cache in use (0 to 1). Near 1, new requests wait or are preempted.',
      unit: 'percentunit',
      min: 0,
      queries: [engineQuery(ENGINE_METRICS.kvCache)],
    },
  ];
}
