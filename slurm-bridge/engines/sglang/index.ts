import type { Word } from '../../scripts/runtime.js';
import {
  describeServerState,
  HOST_WORD,
  openAiServerJobScript,
  PORT_WORD,
  revisionArgs,
} from '../openai-server.js';
import { EngineJobInput, type ServerEngine } from '../types.js';
import { tensorParallel } from '../vllm/index.js';

/** SGLang 0.5.19, the last image built for CUDA 12 drivers (most HPC sites); `python3 -m sglang...` inside. */
export const SGLANG_IMAGE = 'docker://lmsysorg/sglang:v0.5.19-cu129';

/** `python3 -m sglang.launch_server` with its Prometheus metrics on, serving the spec's model name. */
export const sglang: ServerEngine = {
  name: 'sglang',
  title: 'SGLang',
  protocols: ['openai'],
  defaultImage: () => SGLANG_IMAGE,
  defaultCacheDir: (home) => `${home}/.cache/huggingface`,
  jobScript(input) {
    const opts = EngineJobInput.parse(input);
    const { model } = opts;
    const argv: Word[] = [
      'python3',
      '-m',
      'sglang.launch_server',
      '--model-path',
      model.path ?? model.name,
      '--served-model-name',
      model.name,
      '--host',
      HOST_WORD,
      '--port',
      PORT_WORD,
      '--tp-size',
      String(tensorParallel(opts)),
      '--enable-metrics',
      ...revisionArgs(model),
      ...opts.args,
    ];
    return openAiServerJobScript(opts, {
      title: 'SGLang',
      argv,
      env: { HF_HOME: opts.cacheDir },
      healthPath: '/health',
      metricsPath: '/metrics',
      image: SGLANG_IMAGE,
      ...(model.path ? { modelDir: model.path } : {}),
    });
  },
  describeModelState: (model, text) => describeServerState('SGLang', model, text),
};
