import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ollamaJobScript } from '../engines/ollama/job-script.js';
import { clientServiceJobScript } from './client-service.js';
import { moduleLoadLines } from './common.js';
import { monitoringJobScript } from './monitoring.js';
import { runtimeCommand } from './runtime.js';

const hostile = "x'; touch /tmp/pwned-ibo-script; echo '$(id)`id`\"";

function bashSyntaxOk(script: string): void {
  execFileSync('bash', ['-n'], { input: script });
}

const ollama = (extra: Partial<Parameters<typeof ollamaJobScript>[0]> = {}) =>
  ollamaJobScript({
    endpointFile: '/w/benchmarks/b/ollama.endpoint',
    targetsDir: '/w/monitoring/targets',
    modelsDir: '/shared/models',
    numParallel: 4,
    maxLoadedModels: 2,
    benchmark: 'b',
    model: 'gemma3:270m',
    ...extra,
  });

describe('job scripts as text', () => {
  it('the Ollama script sets the documented environment and is valid bash', () => {
    const script = ollama({ env: { OLLAMA_KEEP_ALIVE: '-1' } });
    expect(script).toContain("export OLLAMA_NUM_PARALLEL='4'");
    expect(script).toContain("export OLLAMA_MAX_LOADED_MODELS='2'");
    expect(script).toContain("export OLLAMA_MODELS='/shared/models'");
    expect(script).toContain("export OLLAMA_KEEP_ALIVE='-1'");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash expansions in the expected script text
    expect(script).toContain('export OLLAMA_HOST="${IBO_HOST}:${IBO_PORT}"');
    expect(script).toContain("'ollama' 'serve' &");
    expect(script).toContain('trap ibo_cleanup EXIT');
    bashSyntaxOk(script);
  });

  it('prepares its own model when given a state file: show, else a streamed pull into the file, a load, then ready', () => {
    const script = ollama({ modelStateFile: '/w/benchmarks/b/server.model.json' });
    expect(script).toContain(`'{"model":"gemma3:270m"}'`);
    expect(script).toContain(`'{"model":"gemma3:270m","stream":true}'`);
    expect(script).toContain('/api/pull');
    expect(script).toContain(`ibo_write_atomic '/w/benchmarks/b/server.model.json' '{"status":"ready"}'`);
    // The endpoint is written only once the model is ready.
    expect(script.indexOf('{"status":"ready"}')).toBeLessThan(
      script.indexOf("ibo_write_atomic '/w/benchmarks/b/ollama.endpoint'"),
    );
    expect(ollama({ modelStateFile: '/s', insecureRegistry: true })).toContain('"insecure":true');
    expect(ollama()).not.toContain('/api/pull');
    bashSyntaxOk(script);
  });

  it('keeps a hostile model name out of the shell in the model preparation', () => {
    const script = ollama({ modelStateFile: '/s', model: hostile });
    bashSyntaxOk(script);
    expect(script).not.toContain("touch /tmp/pwned-ibo-script; echo '$(id)");
  });

  it('runs Ollama under apptainer with --nv and the model folder bound on GPU jobs', () => {
    const script = ollama({ runtime: { runtime: 'apptainer', gpu: true, binds: ['/w'] } });
    expect(script).toContain(
      "'apptainer' 'exec' '--nv' '--bind' '/w,/shared/models' 'docker://ollama/ollama' 'ollama' 'serve' &",
    );
    expect(script).toContain('dcgm-exporter');
    bashSyntaxOk(script);
  });

  it('uses singularity the same way, and no --nv without a GPU', () => {
    expect(runtimeCommand({ runtime: 'singularity', image: '/img/o.sif' }, ['ollama', 'serve'])).toBe(
      "'singularity' 'exec' '/img/o.sif' 'ollama' 'serve'",
    );
  });

  it('quotes hostile values everywhere: env values, labels, module names, paths', () => {
    const script = ollama({ env: { X: hostile }, benchmark: hostile, modules: [hostile] });
    bashSyntaxOk(script);
    expect(script).not.toContain("touch /tmp/pwned-ibo-script; echo '$(id)");
    expect(moduleLoadLines([hostile])).toContain(`module load 'x'"'"'; touch`);
  });

  it('refuses an environment name that is not a variable name', () => {
    expect(() => ollama({ env: { 'A;B': 'x' } })).toThrow();
  });

  it('the client-service script passes the agreed flags and is valid bash', () => {
    const script = clientServiceJobScript({
      bundlePath: '/w/bin/client-service-abc.mjs',
      endpointFile: '/w/benchmarks/b/client.endpoint',
      targetsDir: '/w/monitoring/targets',
      tokenFile: '/w/benchmarks/b/token',
      metricsTokenFile: '/w/monitoring/scrape-token',
      ollamaUrl: 'http://node1:11434',
      pushgatewayUrl: 'http://node2:9091',
      outputDir: '/w/benchmarks/b/results',
      benchmark: 'b',
      model: 'gemma3:270m',
    });
    for (const flag of [
      '--port',
      '--token-file',
      '--metrics-token-file',
      '--ollama-url',
      '--pushgateway-url',
      '--output-dir',
    ]) {
      expect(script).toContain(`'${flag}'`);
    }
    expect(script).toContain(
      `'node' '/w/bin/client-service-abc.mjs' '--host' "$IBO_HOST" '--port' "$IBO_PORT"`,
    );
    bashSyntaxOk(script);
  });

  it('the monitoring script writes the Prometheus config, endpoints.json, and skips Grafana when absent', () => {
    const script = monitoringJobScript({ workDir: '/w', modules: ['prometheus/2.42'] });
    expect(script).toContain("module load 'prometheus/2.42'");
    expect(script).toContain('/w/monitoring/endpoints.json');
    expect(script).toContain('/w/monitoring/targets/pushgateway/*.json');
    expect(script).toContain('Grafana: no grafana binary or image on this node');
    bashSyntaxOk(script);
  });

  it('the monitoring script points Grafana at the port Prometheus got and makes an admin password when none was written', () => {
    const script = monitoringJobScript({ workDir: '/w' });
    const exported = script.indexOf('export IBO_PROMETHEUS_URL="http://$IBO_HOST:$IBO_PROMETHEUS_PORT"');
    expect(exported).toBeGreaterThan(script.indexOf('IBO_PROMETHEUS_PORT=$(ibo_free_port)'));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash array expansion in the script
    expect(exported).toBeLessThan(script.indexOf('exec "${grafana_cmd[@]}"'));
    expect(script).toContain("if [ ! -s '/w/monitoring/secrets/grafana-admin-password' ]; then (umask 077;");
    bashSyntaxOk(script);
  });
});
