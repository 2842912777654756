import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { readSandbox } from '../sandbox/description.js';

export const chartDir = fileURLToPath(new URL('../../charts/inference-benchmark-operator', import.meta.url));
/** `helm template` and `lint` default to Kubernetes 1.20 without it (notes/LIBRARIES.md). */
export const KUBE_VERSION = '1.34.0';

/**
 * The sandbox's helm: from the description when its Kubernetes half is up, else where build-go.sh puts it
 * ($IBO_CACHE/bin), so the offline chart tests run before the apiserver is.
 */
export function helmBinary(): string {
  try {
    const kube = readSandbox().kube;
    if (kube) return kube.helm;
  } catch {
    // no description yet: fall through to the build cache
  }
  const cache = process.env.IBO_CACHE ?? join(homedir(), '.cache/inference-benchmark-operator');
  const binary = join(cache, 'bin/helm');
  if (!existsSync(binary))
    throw new Error(`no helm at ${binary}: run 'bash test/sandbox/lib/build-go.sh helm'`);
  return binary;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

const helmHome = mkdtempSync(join(tmpdir(), 'ibo-helm-'));

/** Runs helm with private cache/config folders; resolves with the exit code instead of throwing. */
export function runHelm(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<HelmResult> {
  return new Promise((resolve) => {
    execFile(
      helmBinary(),
      [...args],
      {
        env: {
          ...process.env,
          HELM_CACHE_HOME: join(helmHome, 'cache'),
          HELM_CONFIG_HOME: join(helmHome, 'config'),
          HELM_DATA_HOME: join(helmHome, 'data'),
          ...env,
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Writes values to a file so tests pass structured values exactly (no --set parsing surprises). */
export function valuesFile(values: unknown): string {
  const file = join(mkdtempSync(join(helmHome, 'values-')), 'values.json');
  writeFileSync(file, JSON.stringify(values));
  return file;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export async function template(
  values: unknown = {},
  { release = 'hpcbench', namespace = 'hpcbench-system' } = {},
): Promise<K8sObject[]> {
  const result = await runHelm([
    'template',
    release,
    chartDir,
    '--namespace',
    namespace,
    '--kube-version',
    KUBE_VERSION,
    '--values',
    valuesFile(values),
  ]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter(
    (object) => object.kind === kind && (name === undefined || object.metadata.name === name),
  );
}

export function only(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ''}, found ${found.length}`);
  return found[0] as K8sObject;
}
