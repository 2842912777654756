import { beforeAll, describe, expect, it } from 'vitest';
import { allCrds } from '../../crds/definitions.js';
import { kubectlOk } from '../support/kube-cli.js';
import { installCrds } from './api-support.js';

describe('the generated CRDs on a real kube-apiserver', () => {
  beforeAll(async () => {
    await installCrds();
  });

  it.each(allCrds().map((crd) => crd.metadata.name))(
    '%s is Established with its names accepted',
    async (name) => {
      const conditions = JSON.parse(
        await kubectlOk(['get', 'crd', name, '-o', 'jsonpath={.status.conditions}']),
      ) as Array<{ type: string; status: string; message: string }>;
      expect(conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
      expect(conditions).toContainEqual(expect.objectContaining({ type: 'NamesAccepted', status: 'True' }));
      // The apiserver also reports a schema it had to repair or refuse here.
      expect(conditions.filter((c) => c.type === 'NonStructuralSchema')).toEqual([]);
    },
  );

  it('serves both kinds with their short names and the hpcbench category', async () => {
    const table = await kubectlOk(['api-resources', '--api-group=hpcbench.io', '--no-headers']);
    expect(table).toMatch(
      /^inferencebenchmarks\s+ib,ibench\s+hpcbench\.io\/v1alpha1\s+true\s+InferenceBenchmark\s*$/m,
    );
    expect(table).toMatch(/^slurmclusters\s+scluster\s+hpcbench\.io\/v1alpha1\s+true\s+SlurmCluster\s*$/m);
    const inCategory = await kubectlOk(['api-resources', '--categories=hpcbench', '-o', 'name']);
    expect(inCategory.trim().split('\n').sort()).toEqual([
      'inferencebenchmarks.hpcbench.io',
      'slurmclusters.hpcbench.io',
    ]);
  });

  it('explains inferencebenchmark.spec.workload field by field', async () => {
    const text = await kubectlOk(['explain', 'inferencebenchmark.spec.workload']);
    expect(text).toContain('The load: how many requests, what they ask, and how they arrive.');
    for (const field of [
      'clients',
      'requestsPerClient',
      'prompt',
      'prompts',
      'maxTokens',
      'temperature',
      'seed',
    ]) {
      expect(text).toMatch(new RegExp(`^\\s+${field}\\s+<`, 'm'));
    }
    expect(text).toContain('Simulated clients');
    expect(text).toMatch(/mode\s+<string>[\s\S]*enum: closed, open/);
  });

  it('explains a deep field with its default and the SlurmCluster spec', async () => {
    const time = await kubectlOk(['explain', 'ib.spec.slurm.time']);
    expect(time).toContain('Time limit of the server job');
    expect(time).toMatch(/default: 01:00:00|default: "01:00:00"|01:00:00/);
    const cluster = await kubectlOk(['explain', 'slurmcluster.spec']);
    for (const field of [
      'host',
      'port',
      'user',
      'sshSecretRef',
      'workDir',
      'containerRuntime',
      'modules',
      'defaults',
      'monitoring',
    ]) {
      expect(cluster).toMatch(new RegExp(`^\\s+${field}\\s+<`, 'm'));
    }
  });
});
