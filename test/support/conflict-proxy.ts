import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parse, stringify } from 'yaml';

/**
 * A loopback HTTP proxy in front of the sandbox's kube-apiserver that makes ONE chosen status write meet a
 * real 409: when a write of an object's status matches `trigger`, the proxy first changes the object
 * itself (an annotation, through the apiserver, as another client would), then forwards the write
 * unchanged. The apiserver then refuses it because its resourceVersion is stale — a genuine conflict, not
 * a faked answer. Everything else (lists, watches, other writes) passes through untouched.
 */
export interface ConflictTrigger {
  /** The status path of the object, e.g. /apis/hpcbench.io/v1alpha1/namespaces/ns/inferencebenchmarks/x/status */
  statusPath: string;
  /** A write whose body contains this text gets the conflict (once). */
  bodyContains: string;
}

export interface ConflictProxy {
  /** A kubeconfig (admin rights through the proxy) for the process under test. */
  kubeconfig: string;
  /** Writes that were given a conflict, with the status the apiserver answered them. */
  readonly injected: Array<{ method: string; path: string; status: number }>;
  arm(trigger: ConflictTrigger): void;
  close(): Promise<void>;
}

interface Upstream {
  host: string;
  port: number;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function upstreamOf(adminKubeconfig: string): Upstream {
  const config = parse(readFileSync(adminKubeconfig, 'utf8')) as {
    clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
    users: Array<{ user: { 'client-certificate-data': string; 'client-key-data': string } }>;
  };
  const cluster = config.clusters[0]?.cluster;
  const user = config.users[0]?.user;
  if (!cluster || !user) throw new Error(`${adminKubeconfig}: no cluster or user`);
  const url = new URL(cluster.server);
  return {
    host: url.hostname,
    port: Number(url.port || 443),
    ca: Buffer.from(cluster['certificate-authority-data'], 'base64'),
    cert: Buffer.from(user['client-certificate-data'], 'base64'),
    key: Buffer.from(user['client-key-data'], 'base64'),
  };
}

function send(
  upstream: Upstream,
  method: string,
  path: string,
  headers: Record<string, string | string[] | undefined>,
  body?: Buffer,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: upstream.host,
        port: upstream.port,
        method,
        path,
        headers: { ...headers, host: `${upstream.host}:${upstream.port}` },
        ca: upstream.ca,
        cert: upstream.cert,
        key: upstream.key,
      },
      resolve,
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startConflictProxy(
  adminKubeconfig: string,
  kubeconfigOut: string,
): Promise<ConflictProxy> {
  const upstream = upstreamOf(adminKubeconfig);
  const injected: ConflictProxy['injected'] = [];
  let armed: ConflictTrigger | undefined;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const body = method === 'GET' ? undefined : await readBody(req);
    const trigger = armed;
    if (
      trigger &&
      (method === 'PUT' || method === 'PATCH') &&
      path.split('?')[0] === trigger.statusPath &&
      body?.toString('utf8').includes(trigger.bodyContains)
    ) {
      armed = undefined;
      // Another client changes the object between the operator's read and its write.
      const objectPath = trigger.statusPath.replace(/\/status$/, '');
      const bump = await send(
        upstream,
        'PATCH',
        objectPath,
        { 'content-type': 'application/merge-patch+json' },
        Buffer.from(
          JSON.stringify({ metadata: { annotations: { 'test.hpcbench.io/bumped': String(Date.now()) } } }),
        ),
      );
      await readBody(bump);
      if ((bump.statusCode ?? 0) >= 300) throw new Error(`could not bump ${objectPath}: ${bump.statusCode}`);
      const answer = await send(upstream, method, path, { ...req.headers }, body);
      injected.push({ method, path, status: answer.statusCode ?? 0 });
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      return;
    }
    const answer = await send(upstream, method, path, { ...req.headers }, body);
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    // A watch sends its headers at once and its first event maybe much later: the client waits for them.
    res.flushHeaders();
    answer.pipe(res);
    // A watch ends when the operator goes away: stop reading from the apiserver then.
    res.on('close', () => answer.destroy());
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`conflict proxy: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  writeFileSync(
    kubeconfigOut,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'proxy', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'proxy', user: {} }],
      contexts: [{ name: 'proxy', context: { cluster: 'proxy', user: 'proxy' } }],
      'current-context': 'proxy',
    }),
    { mode: 0o600 },
  );
  return {
    kubeconfig: kubeconfigOut,
    injected,
    arm(trigger) {
      armed = trigger;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
