import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubectl, kubectlOk } from '../support/kube-cli.js';
import { freshNamespace, installCrds, recipesDir } from './api-support.js';

/** The manifests a user copies: every YAML file directly in recipes/ (recipes/argocd/ needs Argo CD's CRDs). */
const recipeFiles = readdirSync(recipesDir).filter((file) => file.endsWith('.yaml'));

function objectsIn(file: string): { kind: string; name: string }[] {
  return parseAllDocuments(readFileSync(join(recipesDir, file), 'utf8')).map((doc) => {
    const object = doc.toJS() as { kind: string; metadata: { name: string } };
    return { kind: object.kind, name: object.metadata.name };
  });
}

describe('every file in recipes/ against the real apiserver', () => {
  let namespace = '';
  beforeAll(async () => {
    await installCrds();
    namespace = await freshNamespace('api-recipes');
  });

  it('has recipes to test', () => {
    expect(recipeFiles.length).toBeGreaterThanOrEqual(3);
  });

  it.each(recipeFiles)('%s is accepted by kubectl apply --dry-run=server', async (file) => {
    const result = await kubectl([
      'apply',
      '--dry-run=server',
      '-n',
      namespace,
      '-f',
      join(recipesDir, file),
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const { name } of objectsIn(file)) {
      expect(result.stdout).toContain(`/${name} created (server dry run)`);
    }
  });

  it.each(recipeFiles)('%s is accepted by a real apply and stored', async (file) => {
    const result = await kubectl(['apply', '-n', namespace, '-f', join(recipesDir, file)]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const { kind, name } of objectsIn(file)) {
      const stored = await kubectlOk(['get', '-n', namespace, kind, name, '-o', 'jsonpath={.metadata.uid}']);
      expect(stored).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('shows no diff between the files and the stored hpcbench objects (no drift for GitOps)', async () => {
    // kubectl diff compares a server-side dry run of the files with the live objects: defaults the apiserver
    // filled in are on both sides, so only real drift shows. (Secrets are left out: stringData always diffs.)
    for (const file of recipeFiles) {
      const objects = parseAllDocuments(readFileSync(join(recipesDir, file), 'utf8'))
        .map((doc) => doc.toJS() as { apiVersion: string })
        .filter((object) => object.apiVersion.startsWith('hpcbench.io/'));
      const result = await kubectl(['diff', '-n', namespace, '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
      });
      expect(result.stdout).toBe('');
      expect(result.code).toBe(0);
    }
  });

  it('shows the default-filled fields on the minimal benchmark', async () => {
    const spec = JSON.parse(
      await kubectlOk(['get', '-n', namespace, 'ib', 'gemma3-minimal', '-o', 'jsonpath={.spec}']),
    ) as Record<string, Record<string, unknown>>;
    expect(spec.workload).toMatchObject({ clients: 1, requestsPerClient: 10, mode: 'closed' });
    expect(spec.slurm).toMatchObject({ time: '01:00:00', memGB: 16, nodes: 1 });
    expect(spec.cleanupPolicy).toBe('Delete');
  });
});
