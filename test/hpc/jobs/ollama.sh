#!/bin/bash
#SBATCH --job-name=ibo-sandbox-ollama
#SBATCH --time=30
# Serves Ollama on a free loopback port with the sandbox's shared model folder, and once it answers writes
# {"ollama": "127.0.0.1:<port>"} to ~/hpcbench/test-endpoints/<job id>.json. Used by the sandbox tests,
# test/smoke-benchmark.sh and test/hpc/bench-ollama.ts.
# Every outbound HTTP(S) request goes to a dead proxy, so the job proves it needs no network: the model
# must already be in OLLAMA_MODELS. Loopback stays direct (NO_PROXY).
set -euo pipefail
dir=$HOME/hpcbench/test-endpoints
mkdir -p "$dir"
file=$dir/$SLURM_JOB_ID.json
port=$(node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export OLLAMA_HOST=127.0.0.1:$port
export OLLAMA_MODELS=${OLLAMA_MODELS:-$HOME/.ollama/models}
export OLLAMA_NUM_PARALLEL=${OLLAMA_NUM_PARALLEL:-4}
export OLLAMA_KEEP_ALIVE=${OLLAMA_KEEP_ALIVE:--1}
export HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost
cleanup() { rm -f "$file" "$file.tmp"; }
trap cleanup EXIT
trap 'exit 143' TERM INT
ollama serve &
server=$!
until curl -fsS -o /dev/null --noproxy '*' "http://$OLLAMA_HOST/api/version"; do
  kill -0 "$server" 2>/dev/null || { echo "ollama serve exited before answering" >&2; exit 1; }
  sleep 0.2
done
printf '{"ollama":"%s"}\n' "$OLLAMA_HOST" >"$file.tmp" && mv -f "$file.tmp" "$file"
wait "$server"
