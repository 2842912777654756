import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import type { ResourceRef } from '../../operator/runtime/informer.js';
import { waitFor } from '../support/wait.js';

/**
 * Helpers for the runtime's integration tests against the sandbox's real kube-apiserver: a throwaway CRD
 * ("Gadget", its own API group per file, status kept as free-form JSON so conditions survive pruning),
 * a namespace, and a TCP proxy in front of the apiserver that can cut or freeze connections.
 */
export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export interface Gadget extends k8s.KubernetesObject {
  spec: { size: number };
  status?: Record<string, unknown>;
}

export async function createGadgetCrd(admin: k8s.KubeConfig): Promise<ResourceRef & { crdName: string }> {
  const group = `rt${randomBytes(4).toString('hex')}.sandbox.hpcbench.io`;
  const crdName = `gadgets.${group}`;
  const api = admin.makeApiClient(k8s.ApiextensionsV1Api);
  await api.createCustomResourceDefinition({
    body: {
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', properties: { size: { type: 'integer' } } },
                  status: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                },
              },
            },
          },
        ],
      },
    },
  });
  await waitFor(
    `CRD ${crdName} Established`,
    async () => {
      const crd = await api.readCustomResourceDefinition({ name: crdName });
      return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    },
    { timeoutMs: 60_000 },
  );
  // Discovery (used by the generic list) lags behind Established for a moment.
  const objects = k8s.KubernetesObjectApi.makeApiClient(admin);
  await waitFor(
    `gadgets listable`,
    async () => ((await objects.list(`${group}/v1`, 'Gadget', 'default')) ? true : undefined),
    { timeoutMs: 30_000 },
  );
  return { group, version: 'v1', plural: 'gadgets', kind: 'Gadget', crdName };
}

export async function deleteCrd(admin: k8s.KubeConfig, crdName: string): Promise<void> {
  try {
    await admin.makeApiClient(k8s.ApiextensionsV1Api).deleteCustomResourceDefinition({ name: crdName });
  } catch {
    // best effort: each file uses its own group, so a leftover never clashes
  }
}

export async function createNamespace(admin: k8s.KubeConfig, name: string): Promise<void> {
  await admin.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

export function gadgetClient(admin: k8s.KubeConfig, resource: ResourceRef) {
  const api = admin.makeApiClient(k8s.CustomObjectsApi);
  const base = { group: resource.group, version: resource.version, plural: resource.plural };
  return {
    create: async (namespace: string, name: string, size: number): Promise<Gadget> =>
      (await api.createNamespacedCustomObject({
        ...base,
        namespace,
        body: {
          apiVersion: `${resource.group}/${resource.version}`,
          kind: 'Gadget',
          metadata: { name, namespace },
          spec: { size },
        },
      })) as Gadget,
    get: async (namespace: string, name: string): Promise<Gadget> =>
      (await api.getNamespacedCustomObject({ ...base, namespace, name })) as Gadget,
    setSize: async (namespace: string, name: string, size: number): Promise<Gadget> =>
      (await api.patchNamespacedCustomObject(
        { ...base, namespace, name, body: { spec: { size } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      )) as Gadget,
    remove: async (namespace: string, name: string): Promise<void> => {
      await api.deleteNamespacedCustomObject({ ...base, namespace, name });
    },
  };
}

/** A kubeconfig identical to `admin` but whose server URL goes through `proxyPort` on loopback. */
export function kubeConfigThroughProxy(admin: k8s.KubeConfig, proxyPort: number): k8s.KubeConfig {
  const cluster = admin.getCurrentCluster();
  const user = admin.getCurrentUser();
  const context = admin.getContextObject(admin.getCurrentContext());
  if (!cluster || !user || !context) throw new Error('admin kubeconfig lacks a current cluster/user/context');
  const url = new URL(cluster.server);
  url.port = String(proxyPort);
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, server: url.toString().replace(/\/$/, '') }],
    users: [user],
    contexts: [{ ...context }],
    currentContext: context.name,
  });
  return kc;
}

/**
 * A loopback TCP proxy to the apiserver. `cut()` resets every open connection (a broken watch);
 * `freeze()` stops moving bytes on the open connections but keeps them open (a half-open watch that
 * would hang forever); new connections always work.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  port = 0;
  accepted = 0;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {
    this.server = createServer((client) => {
      this.accepted++;
      const upstream = connect(this.upstreamPort, this.upstreamHost);
      const pair = { client, upstream };
      this.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const forget = (): void => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', forget);
      upstream.on('error', forget);
      client.on('close', forget);
      upstream.on('close', forget);
    });
  }

  static forUrl(server: string): TcpProxy {
    const url = new URL(server);
    return new TcpProxy(url.hostname, Number(url.port || (url.protocol === 'https:' ? 443 : 80)));
  }

  listen(): Promise<number> {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        const address = this.server.address();
        this.port = typeof address === 'object' && address ? address.port : 0;
        resolve(this.port);
      });
    });
  }

  openConnections(): number {
    return this.pairs.size;
  }

  cut(): void {
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  freeze(): number {
    let frozen = 0;
    for (const pair of this.pairs) {
      pair.client.unpipe(pair.upstream);
      pair.upstream.unpipe(pair.client);
      pair.client.pause();
      pair.upstream.pause();
      frozen++;
    }
    // Frozen sockets are no longer ours to track: they stay open, silent, until close().
    this.frozenPairs.push(...this.pairs);
    this.pairs.clear();
    return frozen;
  }

  private readonly frozenPairs: Array<{ client: Socket; upstream: Socket }> = [];

  close(): Promise<void> {
    for (const { client, upstream } of [...this.pairs, ...this.frozenPairs]) {
      client.destroy();
      upstream.destroy();
    }
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
