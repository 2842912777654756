import * as k8s from '@kubernetes/client-node';

export class SecretNotFoundError extends Error {
  override readonly name = 'SecretNotFoundError';
}

/**
 * Reads Secret keys straight from the apiserver (the operator may `get` Secrets, never list or watch them).
 * The bytes never reach a log, an Event or a status.
 */
export class SecretReader {
  private readonly api: k8s.CoreV1Api;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  }

  async read(namespace: string, name: string, keys: readonly string[]): Promise<Map<string, Buffer>> {
    let secret: k8s.V1Secret;
    try {
      secret = await this.api.readNamespacedSecret({ namespace, name });
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404)
        throw new SecretNotFoundError(`Secret ${namespace}/${name} not found`);
      throw error;
    }
    const values = new Map<string, Buffer>();
    for (const key of keys) {
      const encoded = secret.data?.[key];
      if (encoded === undefined)
        throw new SecretNotFoundError(`Secret ${namespace}/${name} has no key ${JSON.stringify(key)}`);
      values.set(key, Buffer.from(encoded, 'base64'));
    }
    return values;
  }
}
