import * as k8s from '@kubernetes/client-node';

/** A results ConfigMap as the step builds it; binaryData as raw bytes (the client encodes base64). */
export interface ResultsConfigMap {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  /** Absent when spec.retainResults keeps the ConfigMap after the benchmark is gone. */
  readonly owner?: k8s.V1OwnerReference;
  readonly data: Record<string, string>;
  readonly binaryData: Record<string, Uint8Array>;
}

/** Where the step writes results ConfigMaps: the apiserver in the operator, a map in unit tests. */
export interface ResultsConfigMapWriter {
  /** Creates the ConfigMap, or replaces the whole content of the one that exists. */
  write(configMap: ResultsConfigMap): Promise<void>;
}

const isCode = (error: unknown, code: number): boolean =>
  error instanceof Error && (error as { code?: unknown }).code === code;

/** create, and on 409 replace with the resourceVersion just read (retried once on a conflicting writer). */
export class KubeResultsConfigMaps implements ResultsConfigMapWriter {
  private readonly api: k8s.CoreV1Api;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  }

  async write(configMap: ResultsConfigMap): Promise<void> {
    const body = (resourceVersion?: string): k8s.V1ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: configMap.name,
        namespace: configMap.namespace,
        labels: configMap.labels,
        annotations: configMap.annotations,
        ...(configMap.owner ? { ownerReferences: [configMap.owner] } : {}),
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      data: configMap.data,
      binaryData: Object.fromEntries(
        Object.entries(configMap.binaryData).map(([key, bytes]) => [
          key,
          Buffer.from(bytes).toString('base64'),
        ]),
      ),
    });
    try {
      await this.api.createNamespacedConfigMap({ namespace: configMap.namespace, body: body() });
      return;
    } catch (error) {
      if (!isCode(error, 409)) throw error;
    }
    for (let attempt = 0; ; attempt++) {
      const current = await this.api.readNamespacedConfigMap({
        namespace: configMap.namespace,
        name: configMap.name,
      });
      try {
        await this.api.replaceNamespacedConfigMap({
          namespace: configMap.namespace,
          name: configMap.name,
          body: body(current.metadata?.resourceVersion),
        });
        return;
      } catch (error) {
        if (!isCode(error, 409) || attempt >= 1) throw error;
      }
    }
  }
}
