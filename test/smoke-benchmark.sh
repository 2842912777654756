#!/usr/bin/env bash
# Smoke benchmark on the sandbox, the main job until the operator exists: over SSH, sbatch an Ollama job
# (test/hpc/jobs/ollama.sh), reach it through an SSH port forward, query the sandbox model and print
# Ollama's decode tokens/s. Everything it needs comes from the sandbox description.
# Usage: test/smoke-benchmark.sh [requests]   (needs `bash test/sandbox/sandbox up` first)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
requests=${1:-3}
max_tokens=${SMOKE_MAX_TOKENS:-128}
description=${IBO_SANDBOX_FILE:-/var/lib/ibo-sandbox/sandbox.json}
[[ -s $description ]] || { echo "no sandbox description at $description: run 'bash test/sandbox/sandbox up'" >&2; exit 1; }
[[ $requests =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [requests]" >&2; exit 2; }

hpc() { jq -er ".hpc.$1" "$description"; }
model=$(hpc ollama.model)
work_dir=$(hpc workDir)
ssh_cmd=(ssh -i "$(hpc ssh.privateKeyPath)" -o "UserKnownHostsFile=$(hpc ssh.knownHostsPath)"
  -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes
  -o LogLevel=ERROR -p "$(hpc ssh.port)")
login="$(hpc ssh.user)@$(hpc ssh.host)"

job='' forward_pid=''
cleanup() {
  if [[ -n $forward_pid ]]; then kill "$forward_pid" 2>/dev/null || true; fi
  # A login node may drop a connection now and then; the job must not outlive the benchmark.
  if [[ -n $job ]]; then
    for _ in 1 2 3 4 5; do "${ssh_cmd[@]}" "$login" "scancel $job" && break; sleep 1; done
  fi
}
trap cleanup EXIT

deadline() { echo $(($(date +%s) + $1)); }

job=$("${ssh_cmd[@]}" "$login" 'sbatch --parsable --partition=gpu --gres=gpu:1' <"$here/hpc/jobs/ollama.sh")
[[ $job =~ ^[0-9]+$ ]] || { echo "sbatch printed no job id: $job" >&2; exit 1; }
echo "submitted Ollama job $job"

endpoint='' until_t=$(deadline 180)
while [[ -z $endpoint ]]; do
  endpoint=$("${ssh_cmd[@]}" "$login" "cat $work_dir/test-endpoints/$job.json 2>/dev/null" | jq -r '.ollama // empty' || true)
  if [[ -z $endpoint ]]; then
    state=$("${ssh_cmd[@]}" "$login" "squeue -h -t all -j $job -o %T")
    case $state in PENDING | CONFIGURING | RUNNING) ;; *) echo "job $job ended as '$state' before serving" >&2; exit 1 ;; esac
    (($(date +%s) < until_t)) || { echo "job $job did not serve within 180 s (state $state)" >&2; exit 1; }
    sleep 0.5
  fi
done
echo "job $job serves Ollama at $endpoint (on the cluster side)"

local_port=$(node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
"${ssh_cmd[@]}" -N -o ExitOnForwardFailure=yes -L "127.0.0.1:$local_port:$endpoint" "$login" &
forward_pid=$!
base=http://127.0.0.1:$local_port
until_t=$(deadline 30)
until curl -fs -o /dev/null "$base/api/version"; do
  kill -0 "$forward_pid" 2>/dev/null || { echo "ssh port forward exited" >&2; exit 1; }
  (($(date +%s) < until_t)) || { echo "no answer through the forward" >&2; exit 1; }
  sleep 0.2
done

generate() { # seed -> the final JSON object of a non-streaming /api/generate
  curl -fsS "$base/api/generate" -H 'content-type: application/json' -d "$(jq -nc --arg m "$model" \
    --argjson n "$max_tokens" --argjson seed "$1" \
    '{model: $m, prompt: "Explain in a short paragraph why the sky is blue.", stream: false,
      options: {num_predict: $n, seed: $seed, temperature: 0.7}}')"
}

echo "warm-up (loads $model) ..."
generate 0 >/dev/null
total_tokens=0 total_ns=0
for i in $(seq 1 "$requests"); do
  result=$(generate "$i")
  tokens=$(jq -r .eval_count <<<"$result")
  ns=$(jq -r .eval_duration <<<"$result")
  total_tokens=$((total_tokens + tokens)) total_ns=$((total_ns + ns))
  printf 'request %d: %d tokens, decode %.1f tokens/s, %s\n' "$i" "$tokens" \
    "$(awk -v t="$tokens" -v n="$ns" 'BEGIN { print t / (n / 1e9) }')" \
    "$(jq -r '.response | gsub("\\s+"; " ") | .[0:60]' <<<"$result")..."
done
printf 'model %s, %d requests: decode %.1f tokens/s (eval_count / eval_duration)\n' "$model" "$requests" \
  "$(awk -v t="$total_tokens" -v n="$total_ns" 'BEGIN { print t / (n / 1e9) }')"
