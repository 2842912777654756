import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'client-service-config-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, 'file-token-0123456789\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('reads flags first, then the environment, then defaults', () => {
    const config = loadConfig(['--port', '9000', '--token-file', tokenFile], {
      IBO_CLIENT_PORT: '1',
      OLLAMA_URL: 'http://127.0.0.1:5000',
    });
    expect(config.port).toBe(9000);
    expect(config.ollamaUrl).toBe('http://127.0.0.1:5000');
    expect(config.host).toBe('127.0.0.1');
    expect(config.token).toBe('file-token-0123456789');
    expect(config.metricsToken).toBeNull();
  });

  it('takes the token from the environment when there is no file', () => {
    expect(loadConfig([], { IBO_CLIENT_TOKEN: 'env-token-0123456789' }).token).toBe('env-token-0123456789');
  });

  it('refuses to start without a token', () => {
    expect(() => loadConfig([], {})).toThrow(ConfigError);
  });

  it('has no way to pass the token itself on the command line', () => {
    expect(() => loadConfig(['--token', 'secret-on-argv-0123456789'], {})).toThrow();
  });

  it('names the setting that is invalid', () => {
    expect(() =>
      loadConfig(['--ollama-url', 'not a url'], { IBO_CLIENT_TOKEN: 'env-token-0123456789' }),
    ).toThrow(/ollamaUrl \(flag or \$OLLAMA_URL\)/);
  });

  it('keeps the tokens out of the description it logs', () => {
    const config = loadConfig([], { IBO_CLIENT_TOKEN: 'env-token-0123456789' });
    expect(JSON.stringify(describeConfig(config))).not.toContain('env-token');
  });
});
