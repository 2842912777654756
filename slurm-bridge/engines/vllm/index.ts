import type { Word } from '../../scripts/runtime.js';
import {
  describeServerState,
  HOST_WORD,
  openAiServerJobScript,
  PORT_WORD,
  revisionArgs,
} from '../openai-server.js';
import { EngineJobInput, type ParsedEngineJobInput, type ServerEngine } from '../types.js';

/** vLLM 0.11's OpenAI image; the CLI `vllm serve` is on its PATH. */
export const VLLM_IMAGE = 'docker://vllm/vllm-openai:v0.11.0';

/** The tensor-parallel size: what the spec says, else one rank per GPU of the node. */
export function tensorParallel(opts: ParsedEngineJobInput): number {
  return opts.tensorParallelSize ?? Math.max(1, opts.gpus);
}

/** `vllm serve <repo or path>` serving it under the spec's model name, with the weights cache in HF_HOME. */
export const vllm: ServerEngine = {
  name: 'vllm',
  title: 'vLLM',
  protocols: ['openai'],
  defaultImage: () => VLLM_IMAGE,
  defaultCacheDir: (home) => `${home}/.cache/huggingface`,
  jobScript(input) {
    const opts = EngineJobInput.parse(input);
    const { model } = opts;
    const argv: Word[] = [
      'vllm',
      'serve',
      model.path ?? model.name,
      '--served-model-name',
      model.name,
      '--host',
      HOST_WORD,
      '--port',
      PORT_WORD,
      '--tensor-parallel-size',
      String(tensorParallel(opts)),
      ...revisionArgs(model),
      ...opts.args,
    ];
    return openAiServerJobScript(opts, {
      title: 'vLLM',
      argv,
      env: { HF_HOME: opts.cacheDir },
      healthPath: '/health',
      metricsPath: '/metrics',
      image: VLLM_IMAGE,
      ...(model.path ? { modelDir: model.path } : {}),
    });
  },
  describeModelState: (model, text) => describeServerState('vLLM', model, text),
};
