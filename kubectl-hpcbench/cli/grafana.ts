import { createServer, type Server } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import { CliError, connect, fromApiError, type Kube, type KubeOptions } from './kube.js';

/** The chart's tunnel Services carry this label; the Grafana one's name ends in -grafana (templates/tunnel-services.yaml). */
const TUNNEL_SELECTOR = 'app.kubernetes.io/component=tunnel';

export interface GrafanaTarget {
  service: string;
  pod: string;
  port: number;
}

/** The chart's Grafana Service in the namespace, a running Pod behind it, and the Pod's port. */
export async function findGrafana(kube: Kube, serviceName?: string): Promise<GrafanaTarget> {
  const { core, namespace } = kube;
  let services: k8s.V1Service[];
  try {
    services = serviceName
      ? [await core.readNamespacedService({ namespace, name: serviceName })]
      : (await core.listNamespacedService({ namespace, labelSelector: TUNNEL_SELECTOR })).items.filter((s) =>
          s.metadata?.name?.endsWith('-grafana'),
        );
  } catch (error) {
    throw fromApiError(error, serviceName ? `services "${serviceName}"` : 'services');
  }
  const service = services[0];
  if (!service?.metadata?.name)
    throw new CliError(
      `error: no Grafana Service of the chart in namespace "${namespace}" (the chart's tunnel is off, or it is installed elsewhere: -n NAMESPACE)`,
    );
  const name = service.metadata.name;
  const selector = Object.entries(service.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  let pods: k8s.V1Pod[];
  try {
    pods = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
  } catch (error) {
    throw fromApiError(error, 'pods');
  }
  const pod = pods.find((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined);
  if (!pod?.metadata?.name) throw new CliError(`error: service "${name}" has no running Pod to forward to`);
  const servicePort = service.spec?.ports?.[0];
  const target = servicePort?.targetPort ?? servicePort?.port;
  let port: number | undefined = typeof target === 'number' ? target : undefined;
  if (typeof target === 'string') {
    for (const container of pod.spec?.containers ?? [])
      for (const p of container.ports ?? []) if (p.name === target) port = p.containerPort;
  }
  if (port === undefined)
    throw new CliError(`error: service "${name}": cannot find the Pod port of "${String(target)}"`);
  return { service: name, pod: pod.metadata.name, port };
}

/**
 * A listener on 127.0.0.1:PORT (0: any free port) whose connections go through the apiserver's
 * pods/portforward to Grafana's Pod, as the kubeconfig's user.
 */
export async function forwardGrafana(
  kube: Kube,
  target: GrafanaTarget,
  localPort: number,
  onError: (error: CliError) => void,
): Promise<Server> {
  const forward = new k8s.PortForward(kube.config);
  const server: Server = createServer((socket) => {
    forward
      .portForward(kube.namespace, target.pod, [target.port], socket, null, socket)
      .catch((error: unknown) => {
        onError(fromApiError(error, `pods "${target.pod}" portforward`));
        socket.destroy();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new CliError(`error: cannot listen on 127.0.0.1:${localPort}: ${error.message}`)),
    );
    server.listen(localPort, '127.0.0.1', () => resolve());
  });
  return server;
}

/**
 * `kubectl port-forward svc/<release>-grafana`: a local listener on 127.0.0.1 whose connections go through the
 * apiserver's pods/portforward to the tunnel Pod. Runs until interrupted.
 */
export async function grafanaCommand(
  options: KubeOptions & { port?: string; service?: string },
  write: (text: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const kube = connect(options);
  const target = await findGrafana(kube, options.service);
  const localPort = options.port === undefined ? 3000 : Number(options.port);
  if (!Number.isInteger(localPort) || localPort < 0 || localPort > 65535)
    throw new CliError(`error: --port must be a port number, got "${options.port}"`);
  const server = await forwardGrafana(kube, target, localPort, (error) =>
    process.stderr.write(`${error.message}\n`),
  );
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : localPort;
  write(
    `Forwarding from 127.0.0.1:${bound} -> service/${target.service} (pod ${target.pod}:${target.port})\n`,
  );
  write(`Grafana: http://127.0.0.1:${bound}/\n`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    if (signal?.aborted) stop();
    signal?.addEventListener('abort', stop, { once: true });
  });
}
