import { posix } from 'node:path';
import { shellQuote } from '../shell/quote.js';

/**
 * What the server's node is, written by the server job beside its endpoint (README "The run's environment"):
 * the operator reads it once, with the endpoint, into status.environment. Every engine's job script calls
 * `nodeEnvironmentLines` once, right before it writes its endpoint.
 */

/** The file's name, beside the endpoint file. */
export const SERVER_ENVIRONMENT_FILE = 'server.environment.json';

/** The job writes at most this much: each text field is cut to 256 characters, and there are nine fields. */
export const ENVIRONMENT_FILE_MAX_BYTES = 4096;

/** Where the server job of `endpointFile` writes its environment. */
export function serverEnvironmentPath(endpointFile: string): string {
  return posix.join(posix.dirname(endpointFile), SERVER_ENVIRONMENT_FILE);
}

/**
 * Bash that writes one JSON object to `file`: node name, CPU model (lscpu, else /proc/cpuinfo), CPUs
 * (nproc --all) and the job's (SLURM_CPUS_ON_NODE), memory (/proc/meminfo), the GPUs that nvidia-smi sees
 * (model, driver and memory of the first, and their count), and the Slurm version (sinfo --version, else
 * scontrol --version). Best effort: a tool that is missing leaves its field empty (or 0), never fails the
 * job. Text is stripped of control characters, escaped for JSON and cut to 256 characters.
 */
export function nodeEnvironmentLines(file: string): string {
  return [
    '# What this node is, for status.environment (read once by the operator with the endpoint).',
    'ibo_json_str() {',
    '  local s',
    "  s=$(printf '%s' \"$1\" | tr -d '\\000-\\037' | cut -c1-256)",
    `  s=\${s//\\\\/\\\\\\\\}`,
    `  s=\${s//\\"/\\\\\\"}`,
    '  printf \'"%s"\' "$s"',
    '}',
    "ibo_trim() { printf '%s' \"$1\" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//'; }",
    `ibo_digits() { local d=\${1//[^0-9]/}; printf '%s' "\${d:-0}"; }`,
    "IBO_ENV_CPU=$( (lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1) || true)",
    'if [ -z "$IBO_ENV_CPU" ]; then',
    "  IBO_ENV_CPU=$( (sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1) || true)",
    'fi',
    'IBO_ENV_CPUS=$(nproc --all 2>/dev/null || true)',
    "IBO_ENV_MEM_KB=$( (sed -n 's/^MemTotal:[[:space:]]*\\([0-9]*\\).*/\\1/p' /proc/meminfo 2>/dev/null) || true)",
    'IBO_ENV_MEM_MB=$(( $(ibo_digits "$IBO_ENV_MEM_KB") / 1024 ))',
    "IBO_ENV_SLURM=$( ( (sinfo --version 2>/dev/null || scontrol --version 2>/dev/null) | head -n 1 | sed 's/^slurm[^[:space:]]*[[:space:]]*//') || true)",
    'IBO_ENV_JSON=$(printf \'{"node":%s,"cpuModel":%s,"cpus":%s,"jobCpus":%s,"memoryMB":%s,"slurmVersion":%s\' \\',
    '  "$(ibo_json_str "$IBO_HOST")" "$(ibo_json_str "$IBO_ENV_CPU")" "$(ibo_digits "$IBO_ENV_CPUS")" \\',
    `  "$(ibo_digits "\${SLURM_CPUS_ON_NODE:-}")" "$IBO_ENV_MEM_MB" "$(ibo_json_str "$IBO_ENV_SLURM")")`,
    'IBO_ENV_GPUS=""',
    'if command -v nvidia-smi >/dev/null 2>&1; then',
    '  IBO_ENV_GPUS=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader,nounits 2>/dev/null || true)',
    'fi',
    'if [ -n "$IBO_ENV_GPUS" ]; then',
    '  IFS=, read -r IBO_GPU_NAME IBO_GPU_DRIVER IBO_GPU_MEM _ <<< "$(printf \'%s\\n\' "$IBO_ENV_GPUS" | head -n 1)" || true',
    '  IBO_ENV_JSON+=$(printf \',"gpuModel":%s,"gpuDriver":%s,"gpuMemoryMB":%s,"gpuCount":%s\' \\',
    '    "$(ibo_json_str "$(ibo_trim "$IBO_GPU_NAME")")" "$(ibo_json_str "$(ibo_trim "$IBO_GPU_DRIVER")")" \\',
    '    "$(ibo_digits "$IBO_GPU_MEM")" "$(printf \'%s\\n\' "$IBO_ENV_GPUS" | grep -c . || true)")',
    'fi',
    `ibo_write_atomic ${shellQuote(file)} "$IBO_ENV_JSON}"`,
    '',
  ].join('\n');
}
