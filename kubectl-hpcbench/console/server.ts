import type { AddressInfo, Server } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { INFERENCE_BENCHMARK_PLURAL, SLURM_CLUSTER_PLURAL } from '../../crds/index.js';
import { runsToCompare } from '../cli/compare.js';
import { findGrafana, forwardGrafana } from '../cli/grafana.js';
import { benchmarkName, type Kube } from '../cli/kube.js';
import { reportInputOf } from '../cli/report.js';
import { loadResults } from '../cli/results-data.js';
import { comparisonChartsSvg } from '../compare/charts.js';
import { compareRuns, renderComparisonJson, renderComparisonText } from '../compare/index.js';
import { renderReport } from '../report/index.js';
import {
  benchmarkSpecSchema,
  ConsoleError,
  createBenchmark,
  deleteBenchmark,
  inNamespace,
  listObjects,
  logRole,
  refusalOf,
} from './kube-api.js';
import { streamNamespace } from './live-events.js';
import { allowedHost, cookieOf, sameToken, sessionCookie } from './security.js';

/**
 * `kubectl hpcbench console`: a small HTTP server on 127.0.0.1 that serves the console's one page and a JSON
 * API over the user's kubeconfig (list/watch, server-side dry run, create, delete, results, report, logs,
 * compare, Grafana). It stores nothing: every answer is read from the apiserver when asked.
 */

export interface ConsoleOptions {
  kube: Kube;
  port: number;
  token: string;
  /** The page's script, bundled by esbuild (web/main.ts). */
  appJs: string;
  /** The namespace the page opens with: -n, or the kubeconfig context's. */
  namespace: string;
  /** Where the Helm chart's Grafana tunnel Service lives, when it is installed. */
  grafanaNamespace?: string;
  log?: (line: string) => void;
}

export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'none'; base-uri 'none'";

function page(namespace: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hpcbench console</title>
<meta name="hpcbench-namespace" content="${namespace.replace(/[^a-z0-9-]/g, '')}">
</head>
<body>
<header class="top"><a href="#/" class="brand">hpcbench</a><nav><a href="#/">Benchmarks</a><a href="#/new">New benchmark</a><a href="#/compare">Compare</a><a href="#/grafana" id="grafana-link">Grafana</a></nav><label class="ns">namespace <input id="namespace" size="16" autocomplete="off"></label></header>
<main id="app"><p class="muted">Loading…</p></main>
<script src="/app.js"></script>
</body>
</html>
`;
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function refuse(reply: FastifyReply, error: unknown, what: string): FastifyReply {
  const refusal = refusalOf(error, what);
  return reply.code(refusal.status >= 400 && refusal.status < 600 ? refusal.status : 502).send(refusal);
}

function namespaced(request: FastifyRequest, kube: Kube): Kube {
  const { namespace } = request.params as { namespace: string };
  if (!NAMESPACE.test(namespace))
    throw new ConsoleError({
      status: 400,
      reason: 'BadRequest',
      message: `"${namespace}" is not a namespace name`,
      causes: [],
    });
  return inNamespace(kube, namespace);
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const { kube, token } = options;
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  let port = options.port;
  let grafana: { server: Server; url: string } | undefined;

  app.addHook('onRequest', async (request, reply) => {
    if (!allowedHost(request.headers.host, port))
      return reply.code(403).type('text/plain').send('the console answers only to 127.0.0.1 and localhost\n');
    const url = new URL(request.url, 'http://127.0.0.1');
    if (request.method === 'GET' && url.pathname === '/' && url.searchParams.has('token')) {
      if (!sameToken(url.searchParams.get('token') ?? undefined, token))
        return reply
          .code(401)
          .type('text/plain')
          .send('this console link is not valid: use the URL it printed\n');
      return reply.header('set-cookie', sessionCookie(token, port)).redirect('/');
    }
    if (!sameToken(cookieOf(request.headers.cookie, port), token))
      return reply
        .code(401)
        .type('text/plain')
        .send('open the URL that `kubectl hpcbench console` printed (it carries the session token)\n');
    if (request.method !== 'GET' && request.headers['x-hpcbench-console'] !== '1')
      return reply.code(403).type('text/plain').send('a write must come from the console page\n');
    return undefined;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
    return payload;
  });

  app.get('/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', PAGE_CSP)
      .send(page(options.namespace)),
  );
  app.get('/app.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(options.appJs),
  );

  app.get('/api/context', async () => ({
    namespace: options.namespace,
    context: kube.config.getCurrentContext(),
    user: kube.config.getCurrentUser()?.name ?? null,
    server: kube.config.getCurrentCluster()?.server ?? null,
    grafana: options.grafanaNamespace !== undefined,
  }));
  app.get('/api/schema', async () => ({ spec: benchmarkSpecSchema() }));

  app.get('/api/namespaces/:namespace/benchmarks', async (request, reply) => {
    try {
      return await listObjects(namespaced(request, kube), INFERENCE_BENCHMARK_PLURAL);
    } catch (error) {
      return refuse(reply, error, 'inferencebenchmarks');
    }
  });
  app.get('/api/namespaces/:namespace/clusters', async (request, reply) => {
    try {
      return await listObjects(namespaced(request, kube), SLURM_CLUSTER_PLURAL);
    } catch (error) {
      return refuse(reply, error, 'slurmclusters');
    }
  });

  app.get('/api/namespaces/:namespace/events', async (request, reply) => {
    let scoped: Kube;
    try {
      scoped = namespaced(request, kube);
    } catch (error) {
      return refuse(reply, error, 'events');
    }
    const abort = new AbortController();
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    const sink = {
      get closed() {
        return raw.destroyed || raw.writableEnded;
      },
      send(event: string, data: unknown) {
        if (!this.closed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      },
    };
    // A comment now and then keeps proxies and the browser from closing an idle stream.
    const keepAlive = setInterval(() => sink.closed || raw.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      clearInterval(keepAlive);
      abort.abort();
    });
    streamNamespace(scoped, sink, abort.signal);
    return reply;
  });

  app.post('/api/namespaces/:namespace/benchmarks', async (request, reply) => {
    const dryRun = (request.query as { dryRun?: string }).dryRun === 'All';
    try {
      const scoped = namespaced(request, kube);
      const body = request.body as { metadata?: Record<string, unknown> } | undefined;
      const object = { ...body, metadata: { ...body?.metadata, namespace: scoped.namespace } };
      const result = await createBenchmark(scoped, object, dryRun);
      return reply.code(dryRun ? 200 : 201).send(result);
    } catch (error) {
      return refuse(reply, error, 'inferencebenchmarks');
    }
  });

  app.delete('/api/namespaces/:namespace/benchmarks/:name', async (request, reply) => {
    try {
      const { name } = request.params as { name: string };
      await deleteBenchmark(namespaced(request, kube), benchmarkName(name));
      return { deleted: name };
    } catch (error) {
      return refuse(reply, error, 'inferencebenchmarks');
    }
  });

  app.get('/api/namespaces/:namespace/benchmarks/:name/report', async (request, reply) => {
    try {
      const { name } = request.params as { name: string };
      const results = await loadResults(namespaced(request, kube), benchmarkName(name));
      if (!results.summary)
        throw new ConsoleError({
          status: 404,
          reason: 'NotFound',
          message: `inferencebenchmark "${name}" has no results yet`,
          causes: [],
        });
      const html = await renderReport(reportInputOf(results));
      const download = (request.query as { download?: string }).download === '1';
      if (download) reply.header('content-disposition', `attachment; filename="${name}-report.html"`);
      return reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(html);
    } catch (error) {
      return refuse(reply, error, 'report');
    }
  });

  app.get('/api/namespaces/:namespace/benchmarks/:name/logs', async (request, reply) => {
    try {
      const { name } = request.params as { name: string };
      const query = request.query as { role?: string; download?: string };
      const role = logRole(query.role);
      const results = await loadResults(namespaced(request, kube), benchmarkName(name));
      const text = results.logs[role];
      if (text === undefined)
        throw new ConsoleError({
          status: 404,
          reason: 'NotFound',
          message: `no ${role} log of inferencebenchmark "${name}" is stored yet`,
          causes: [],
        });
      const info = results.logsIndex[role];
      if (query.download === '1')
        reply.header('content-disposition', `attachment; filename="${name}-${role}.log"`);
      if (info) reply.header('x-log-bytes', String(info.bytes)).header('x-log-job', info.jobId);
      return reply.type('text/plain; charset=utf-8').send(text);
    } catch (error) {
      return refuse(reply, error, 'logs');
    }
  });

  app.get('/api/namespaces/:namespace/compare', async (request, reply) => {
    try {
      const query = request.query as { names?: string; alpha?: string };
      const names = (query.names ?? '').split(',').filter((n) => n.length > 0);
      if (names.length < 2)
        throw new ConsoleError({
          status: 400,
          reason: 'BadRequest',
          message: 'pick at least two benchmarks with results to compare',
          causes: [],
        });
      const alpha = query.alpha === undefined ? 0.05 : Number(query.alpha);
      const runs = await runsToCompare(namespaced(request, kube), names);
      const table = compareRuns(runs, { alpha: alpha > 0 && alpha < 1 ? alpha : 0.05 });
      return {
        table: JSON.parse(renderComparisonJson(table)) as unknown,
        text: renderComparisonText(table),
        charts: await comparisonChartsSvg(runs),
      };
    } catch (error) {
      return refuse(reply, error, 'compare');
    }
  });

  app.post('/api/grafana', async (_request, reply) => {
    if (grafana) return { url: grafana.url };
    if (options.grafanaNamespace === undefined)
      return reply.code(404).send({
        status: 404,
        reason: 'NotFound',
        message:
          'no Grafana: start the console with --grafana-namespace NAMESPACE (where the Helm chart is installed)',
        causes: [],
      });
    try {
      const scoped = inNamespace(kube, options.grafanaNamespace);
      const target = await findGrafana(scoped);
      const server = await forwardGrafana(scoped, target, 0, (error) => options.log?.(error.message));
      const bound = (server.address() as AddressInfo).port;
      grafana = { server, url: `http://127.0.0.1:${bound}/` };
      options.log?.(`Grafana: ${grafana.url} (service/${target.service} in ${options.grafanaNamespace})`);
      return { url: grafana.url };
    } catch (error) {
      return refuse(reply, error, 'grafana');
    }
  });

  await app.listen({ host: '127.0.0.1', port: options.port });
  port = (app.server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    async close() {
      grafana?.server.close();
      await app.close();
    },
  };
}
