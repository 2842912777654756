import * as k8s from '@kubernetes/client-node';

/** One key of a ConfigMap, as the dataset step needs it. */
export type ConfigMapKeyRead = { found: true; text: string } | { found: false; why: string };

/** Reads a key of a ConfigMap: the apiserver in the operator (get only, never list), a map in unit tests. */
export interface ConfigMapKeyReader {
  readKey(namespace: string, name: string, key: string): Promise<ConfigMapKeyRead>;
}

/** `get` on one ConfigMap; a 404 or a missing key is "not found" (waited for), anything else throws. */
export class KubeConfigMapKeyReader implements ConfigMapKeyReader {
  private readonly api: k8s.CoreV1Api;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  }

  async readKey(namespace: string, name: string, key: string): Promise<ConfigMapKeyRead> {
    let configMap: k8s.V1ConfigMap;
    try {
      configMap = await this.api.readNamespacedConfigMap({ namespace, name });
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404)
        return { found: false, why: `ConfigMap ${namespace}/${name} not found` };
      throw error;
    }
    const text = configMap.data?.[key];
    if (text !== undefined) return { found: true, text };
    const binary = configMap.binaryData?.[key];
    if (binary !== undefined) return { found: true, text: Buffer.from(binary, 'base64').toString('utf8') };
    return { found: false, why: `ConfigMap ${namespace}/${name} has no key ${JSON.stringify(key)}` };
  }
}
