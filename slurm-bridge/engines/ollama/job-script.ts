import { z } from 'zod';
import {
  cleanupTrap,
  exportLine,
  HOST_VAR,
  moduleLoadLines,
  registerJobTarget,
  scriptPreamble,
  superviseTail,
} from '../../scripts/common.js';
import { nodeEnvironmentLines, serverEnvironmentPath } from '../../scripts/environment.js';
import { dcgmBlock, nodeExporterBlock } from '../../scripts/exporters.js';
import { RuntimeSpec, runtimeCommand } from '../../scripts/runtime.js';
import { shellQuote } from '../../shell/quote.js';

export const OllamaJobOptions = z.object({
  /** Where the job writes `host:port` once Ollama answers (absolute, inside the work dir). */
  endpointFile: z.string().startsWith('/'),
  /** `<workDir>/monitoring/targets`, from the monitoring layout. */
  targetsDir: z.string().startsWith('/'),
  /** Shared OLLAMA_MODELS folder, so a model is pulled once per cluster, not once per job. */
  modelsDir: z.string().startsWith('/'),
  numParallel: z.number().int().min(1).max(1024).default(1),
  maxLoadedModels: z.number().int().min(1).max(64).default(1),
  /** Extra environment for `ollama serve` (OLLAMA_KEEP_ALIVE, OLLAMA_FLASH_ATTENTION, ...). */
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  runtime: RuntimeSpec.prefault({}),
  /** The ollama binary (native) or the program inside the image. */
  binary: z.string().min(1).default('ollama'),
  modules: z.array(z.string().min(1)).default([]),
  benchmark: z.string().min(1),
  model: z.string().min(1),
  /** Seconds to wait for Ollama to listen before the job gives up. */
  readyTimeoutSeconds: z.number().int().min(1).default(300),
  /**
   * Where the job reports its model preparation, one JSON object (Ollama's own pull progress lines, then
   * `{"status":"ready"}`): the job pulls and loads its model itself, so an SSH reconnect or an operator
   * restart costs the pull nothing. Without it the job only serves (the operator prepares the model).
   */
  modelStateFile: z.string().startsWith('/').optional(),
  /** Pull over plain HTTP (a registry on the cluster's own network, like `ollama pull --insecure`). */
  insecureRegistry: z.boolean().default(false),
});
export type OllamaJobOptions = z.input<typeof OllamaJobOptions>;

/**
 * The Ollama server job: picks its own port, starts `ollama serve` bound to the node name, writes its
 * endpoint once it listens, registers node-exporter (and dcgm-exporter on GPU nodes, when installed) for
 * Prometheus, and cleans all of that up on exit.
 */
export function ollamaJobScript(input: OllamaJobOptions): string {
  const opts = OllamaJobOptions.parse(input);
  const labels = { benchmark: opts.benchmark, model: opts.model };
  const node = registerJobTarget({
    targetsDir: opts.targetsDir,
    kind: 'node',
    role: 'ollama',
    portVar: 'IBO_NODE_EXPORTER_PORT',
    labels,
  });
  const dcgm = registerJobTarget({
    targetsDir: opts.targetsDir,
    kind: 'dcgm',
    role: 'ollama',
    portVar: 'IBO_DCGM_PORT',
    labels,
  });
  const runtime = {
    ...opts.runtime,
    image: opts.runtime.image ?? 'docker://ollama/ollama',
    binds: [...opts.runtime.binds, opts.modelsDir],
  };
  const serve = runtimeCommand(runtime, [opts.binary, 'serve']);
  return [
    scriptPreamble(`Ollama server for benchmark ${opts.benchmark}`),
    moduleLoadLines(opts.modules),
    cleanupTrap([`rm -f -- ${shellQuote(opts.endpointFile)}`, node.unregister, dcgm.unregister]),
    'IBO_PORT=$(ibo_free_port)',
    `export OLLAMA_HOST="\${${HOST_VAR}}:\${IBO_PORT}"`,
    exportLine('OLLAMA_MODELS', opts.modelsDir),
    exportLine('OLLAMA_NUM_PARALLEL', String(opts.numParallel)),
    exportLine('OLLAMA_MAX_LOADED_MODELS', String(opts.maxLoadedModels)),
    ...Object.entries(opts.env).map(([name, value]) => exportLine(name, value)),
    `${serve} &`,
    `ibo_wait_tcp "$${HOST_VAR}" "$IBO_PORT" ${opts.readyTimeoutSeconds}`,
    nodeExporterBlock(node.register),
    dcgmBlock(opts.runtime.gpu ?? false, dcgm.register),
    opts.modelStateFile ? modelPreparation(opts.modelStateFile, opts.model, opts.insecureRegistry) : '',
    nodeEnvironmentLines(serverEnvironmentPath(opts.endpointFile)),
    // Last: the endpoint file tells the operator everything of this job is up (and the model loaded).
    `ibo_write_atomic ${shellQuote(opts.endpointFile)} "$${HOST_VAR}:$IBO_PORT"`,
    'echo "ollama listens on $OLLAMA_HOST"',
    superviseTail(),
  ].join('\n');
}

/**
 * The job prepares its own model through Ollama's API: nothing to do when `/api/show` knows it, else a
 * streamed `/api/pull` whose progress lines go to the state file (at most once a second, and always the
 * last one), then a load into memory (`/api/generate` without a prompt), then `{"status":"ready"}`. A
 * pull that ends without Ollama's "success" leaves its last line (Ollama's error) in the state file and
 * ends the job with exit code 3, so the operator can name the model and the error.
 */
export function modelPreparation(stateFile: string, model: string, insecure: boolean): string {
  const state = shellQuote(stateFile);
  const show = shellQuote(JSON.stringify({ model }));
  const pull = shellQuote(JSON.stringify({ model, stream: true, ...(insecure ? { insecure: true } : {}) }));
  const api = '"http://$OLLAMA_HOST/api';
  return [
    `ibo_write_atomic ${state} '{"status":"checking"}'`,
    `if [ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST ${api}/show" -d ${show} || true)" != 200 ]; then`,
    "  IBO_PULL_LAST='' IBO_PULL_WRITTEN=-1",
    '  while IFS= read -r line; do',
    '    [ -n "$line" ] || continue',
    '    IBO_PULL_LAST=$line',
    '    if (( SECONDS != IBO_PULL_WRITTEN )); then',
    `      ibo_write_atomic ${state} "$line"`,
    '      IBO_PULL_WRITTEN=$SECONDS',
    '    fi',
    `  done < <(curl -sS -N -X POST ${api}/pull" -d ${pull} 2>&1 || echo '{"error":"the Ollama API did not answer the pull"}')`,
    `  ibo_write_atomic ${state} "$IBO_PULL_LAST"`,
    `  if [[ $IBO_PULL_LAST != *'"status":"success"'* ]]; then`,
    `    echo "pulling ${model.replace(/[^A-Za-z0-9._:/@-]/g, '_')} failed: $IBO_PULL_LAST" >&2`,
    '    exit 3',
    '  fi',
    'fi',
    `curl -sS -o /dev/null -X POST ${api}/generate" -d ${show} || true`,
    `ibo_write_atomic ${state} '{"status":"ready"}'`,
    '',
  ].join('\n');
}
