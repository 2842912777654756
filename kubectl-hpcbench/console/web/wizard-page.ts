import { parse, stringify } from 'yaml';
import { ApiError, getJson, nsPath, send } from './api.js';
import { h, replace } from './dom.js';
import {
  buildObject,
  type Field,
  type FieldError,
  fieldsOf,
  leaves,
  type SchemaNode,
} from './form-schema.js';
import type { LiveNamespace } from './store.js';

/**
 * The wizard (the old system's main screen): a form generated from the CRD's schema, the YAML it will apply
 * (to copy into Git instead), "Check" = the apiserver's server-side dry run (schema, CEL rules, admission;
 * nothing stored), and "Create". The apiserver's answer is shown as it gave it, each cause by its field.
 */

const OPEN_GROUPS = new Set(['spec.clusterRef', 'spec.model', 'spec.slurm', 'spec.workload']);

function inputFor(field: Exclude<Field, { kind: 'group' }>, onInput: () => void): HTMLElement {
  const common = { name: field.path, id: `f-${field.path}`, oninput: onInput, onchange: onInput };
  switch (field.kind) {
    case 'enum':
      return h(
        'select',
        common,
        h('option', { value: '' }, field.placeholder ? `(default: ${field.placeholder})` : '(unset)'),
        (field.options ?? []).map((o) => h('option', { value: o }, o)),
      );
    case 'boolean':
      return h(
        'select',
        common,
        h('option', { value: '' }, field.placeholder ? `(default: ${field.placeholder})` : '(unset)'),
        h('option', { value: 'true' }, 'true'),
        h('option', { value: 'false' }, 'false'),
      );
    case 'lines':
      return h('textarea', { ...common, rows: 3, placeholder: 'one per line' });
    case 'yaml':
      return h('textarea', { ...common, rows: 4, class: 'code', placeholder: field.placeholder ?? 'YAML' });
    default:
      return h('input', {
        ...common,
        type: field.kind === 'text' ? 'text' : 'number',
        step: field.kind === 'integer' ? 1 : 'any',
        min: field.minimum,
        max: field.maximum,
        placeholder: field.placeholder,
        autocomplete: 'off',
        ...(field.path === 'spec.clusterRef.name' ? { list: 'cluster-names' } : {}),
      });
  }
}

function fieldView(field: Field, onInput: () => void): HTMLElement {
  if (field.kind === 'group') {
    const details = h(
      'details',
      { class: 'group', 'data-path': field.path },
      h(
        'summary',
        {},
        field.key,
        field.required ? h('span', { class: 'req', title: 'required' }, ' *') : null,
        h('span', { class: 'help' }, ` ${field.description}`),
      ),
      field.children.map((child) => fieldView(child, onInput)),
    );
    details.open = field.required || OPEN_GROUPS.has(field.path);
    return details;
  }
  return h(
    'div',
    { class: 'field', 'data-path': field.path },
    h(
      'label',
      { for: `f-${field.path}` },
      field.key,
      field.required ? h('span', { class: 'req', title: 'required' }, ' *') : null,
    ),
    inputFor(field, onInput),
    h('small', { class: 'help' }, field.description),
    h('span', { class: 'field-error', role: 'alert' }),
  );
}

export async function renderWizardPage(
  root: HTMLElement,
  live: LiveNamespace,
  go: (hash: string) => void,
): Promise<() => void> {
  const { spec } = await getJson<{ spec: SchemaNode }>('/api/schema');
  const fields = fieldsOf(spec, 'spec');
  const nameInput = h('input', {
    name: 'metadata.name',
    id: 'f-metadata.name',
    autocomplete: 'off',
    placeholder: 'e.g. gemma-4c',
    pattern: '[a-z0-9]([-a-z0-9]*[a-z0-9])?',
  });
  const preview = h('pre', { id: 'yaml-preview', class: 'code' });
  const outcome = h('div', { id: 'wizard-outcome', role: 'status' });
  const clusterNames = h('datalist', { id: 'cluster-names' });
  const form = h('form', { id: 'wizard', novalidate: true });

  const manifest = (): { object: Record<string, unknown>; errors: FieldError[] } => {
    const values = new Map<string, string>();
    for (const field of leaves(fields)) {
      const input = form.querySelector<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
        `[name="${CSS.escape(field.path)}"]`,
      );
      if (input) values.set(field.path, input.value);
    }
    const built = buildObject(fields, values, parse);
    return {
      object: {
        apiVersion: 'hpcbench.io/v1alpha1',
        kind: 'InferenceBenchmark',
        metadata: { name: nameInput.value.trim(), namespace: live.namespace },
        ...built.object,
      },
      errors: built.errors,
    };
  };
  const showErrors = (errors: FieldError[]) => {
    for (const el of form.querySelectorAll('.field.invalid')) el.classList.remove('invalid');
    for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
    for (const error of errors) {
      const field = form.querySelector(`.field[data-path="${CSS.escape(error.path)}"]`);
      if (!field) continue;
      field.classList.add('invalid');
      const slot = field.querySelector('.field-error');
      if (slot) slot.textContent = error.message;
      field.closest('details')?.setAttribute('open', '');
    }
  };
  const refresh = () => {
    const { object, errors } = manifest();
    preview.textContent = stringify(object);
    showErrors(errors);
  };

  const submit = async (dryRun: boolean) => {
    const { object, errors } = manifest();
    if (errors.length > 0) {
      replace(outcome, h('p', { class: 'refusal' }, 'Fix the fields marked in red first.'));
      return;
    }
    replace(
      outcome,
      h('p', { class: 'muted' }, dryRun ? 'Asking the apiserver (server-side dry run)…' : 'Creating…'),
    );
    try {
      const answer = await send<{ object: { metadata?: { name?: string } } }>(
        'POST',
        `${nsPath(live.namespace)}/benchmarks${dryRun ? '?dryRun=All' : ''}`,
        object,
      );
      showErrors([]);
      if (!dryRun) {
        go(`#/ib/${encodeURIComponent(answer.object.metadata?.name ?? nameInput.value)}`);
        return;
      }
      replace(
        outcome,
        h(
          'p',
          { class: 'ok', id: 'dry-run-ok' },
          'The apiserver accepts this benchmark (server-side dry run: schema, rules and admission passed; nothing was stored).',
        ),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const { refusal } = error;
      replace(
        outcome,
        h(
          'div',
          { class: 'refusal', id: 'dry-run-refusal', role: 'alert' },
          h('strong', {}, `${refusal.reason}: `),
          refusal.message,
          refusal.causes.length > 0
            ? h(
                'ul',
                {},
                refusal.causes.map((c) => h('li', {}, h('code', {}, c.field ?? ''), ` ${c.message ?? ''}`)),
              )
            : null,
        ),
      );
      showErrors(
        refusal.causes.filter((c) => c.field).map((c) => ({ path: c.field ?? '', message: c.message ?? '' })),
      );
    }
  };

  const download = () => {
    const link = h('a', {
      href: URL.createObjectURL(new Blob([preview.textContent ?? ''], { type: 'application/yaml' })),
      download: `${nameInput.value || 'benchmark'}.yaml`,
    });
    link.click();
    URL.revokeObjectURL(link.href);
  };

  nameInput.addEventListener('input', refresh);
  replace(
    form,
    h(
      'div',
      { class: 'field', 'data-path': 'metadata.name' },
      h('label', { for: 'f-metadata.name' }, 'name', h('span', { class: 'req' }, ' *')),
      nameInput,
      h(
        'small',
        { class: 'help' },
        `metadata.name of the InferenceBenchmark, created in namespace ${live.namespace}. Lower-case letters, digits and "-".`,
      ),
      h('span', { class: 'field-error', role: 'alert' }),
    ),
    fields.map((f) => fieldView(f, refresh)),
  );
  form.addEventListener('submit', (event) => event.preventDefault());

  replace(
    root,
    h('h1', {}, 'New benchmark'),
    h(
      'p',
      { class: 'muted' },
      'Fields come from the InferenceBenchmark CRD; empty fields take its defaults. "Check" asks the apiserver for a server-side dry run, as kubectl apply --dry-run=server does.',
    ),
    h(
      'div',
      { class: 'wizard' },
      h('div', { class: 'form-col' }, form, clusterNames),
      h(
        'aside',
        { class: 'yaml-col' },
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', id: 'check', onclick: () => void submit(true) }, 'Check (dry run)'),
          h(
            'button',
            { type: 'button', id: 'create', class: 'primary', onclick: () => void submit(false) },
            'Create',
          ),
          h('button', { type: 'button', id: 'download-yaml', onclick: download }, 'Download YAML'),
        ),
        outcome,
        h('h2', {}, 'YAML to apply'),
        preview,
      ),
    ),
  );
  const drawClusters = () =>
    replace(
      clusterNames,
      [...live.state.clusters.keys()].map((name) => h('option', { value: name })),
    );
  drawClusters();
  refresh();
  return live.subscribe(drawClusters);
}
