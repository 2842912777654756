import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  healthCheckKey,
  healthChecks,
  patchFile,
  readHealthCheck,
  renderArgocdCmPatch,
} from './argocd-cm.js';

describe('the argocd-cm patch', () => {
  it('is up to date with the Lua files (regenerate with `npx tsx recipes/argocd/argocd-cm.ts`)', () => {
    expect(readFileSync(patchFile, 'utf8')).toBe(renderArgocdCmPatch());
  });

  it('carries each health check byte for byte under the key Argo CD reads', () => {
    const patch = parse(readFileSync(patchFile, 'utf8')) as { data: Record<string, string> };
    for (const { kind, file } of healthChecks) {
      expect(patch.data[healthCheckKey(kind)]).toBe(readHealthCheck(file));
    }
  });
});
