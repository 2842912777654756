import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../support/kube.js';
import { kubectl, kubectlOk } from '../support/kube-cli.js';
import { applyCrdAndWaitEstablished, deleteCrd } from './fixtures/crd-lifecycle.js';
import { widget, widgetCrd } from './fixtures/widget-crd.js';

const crd = widgetCrd();

describe('a CustomResourceDefinition applied with kubectl', () => {
  afterAll(async () => {
    await deleteCrd(crd);
  });

  it('becomes Established and its resource is served', async () => {
    await applyCrdAndWaitEstablished(crd);

    const conditions = JSON.parse(
      await kubectlOk(['get', 'crd', crd.name, '-o', 'jsonpath={.status.conditions}']),
    ) as Array<{ type: string; status: string }>;
    expect(conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
    expect(conditions).toContainEqual(expect.objectContaining({ type: 'NamesAccepted', status: 'True' }));

    const resources = await kubectlOk(['api-resources', `--api-group=${crd.group}`, '-o', 'name']);
    expect(resources.trim()).toBe(`widgets.${crd.group}`);
  });

  it('rejects at apply a custom object that breaks the schema, naming the field', async () => {
    const bad = widget(crd, uniqueName('too-big'), { size: 1000 });
    const result = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(bad) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('spec.size');
  });

  it('accepts a valid custom object and shows it with the printer columns', async () => {
    const name = uniqueName('ok');
    await kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify(widget(crd, name, { size: 7, color: 'red' })),
    });
    try {
      const table = await kubectlOk(['get', `widgets.${crd.group}`, name]);
      // With additionalPrinterColumns, kubectl shows exactly those: Age appears only if a column asks for it.
      expect(table).toMatch(/^NAME\s+SIZE\s+PHASE\s*$/m);
      expect(table).toMatch(new RegExp(`${name}\\s+7\\s`));
    } finally {
      await kubectlOk(['delete', `widgets.${crd.group}`, name, '--wait=true']);
    }
  });
});
