import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { RequestRecord } from '../api-schema.js';
import { definePlugin } from './define-plugin.js';

/** What GET /metrics shows: the process, and every request this service measured, across runs. */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter;
  private readonly outputTokens: Counter;
  readonly runsStarted: Counter;

  constructor(activeRuns: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ibo_client_service_' });
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'ibo_client_service_requests_total',
      help: 'Requests sent to Ollama (runs, warmup excluded, and /query) by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.outputTokens = new Counter({
      name: 'ibo_client_service_output_tokens_total',
      help: 'Output tokens of successful requests',
      registers,
    });
    this.runsStarted = new Counter({
      name: 'ibo_client_service_runs_started_total',
      help: 'Runs started',
      registers,
    });
    new Gauge({
      name: 'ibo_client_service_active_runs',
      help: 'Runs in progress',
      registers,
      collect() {
        this.set(activeRuns());
      },
    });
  }

  observe(record: RequestRecord): void {
    if (record.warmup) return;
    this.requests.inc({ outcome: record.ok ? 'success' : (record.errorKind ?? 'unknown') });
    if (record.ok && record.outputTokens !== null) this.outputTokens.inc(record.outputTokens);
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    serviceMetrics: ServiceMetrics;
  }
}

export const serviceMetricsPlugin = definePlugin('service-metrics', [], async (app) => {
  app.decorate(
    'serviceMetrics',
    new ServiceMetrics(() => app.runs?.list().filter((r) => !r.isFinished).length ?? 0),
  );
});
