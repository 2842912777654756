#!/usr/bin/env bash
# The README's main command: a real benchmark on the sandbox, end to end, with no human in the loop.
#   1. set-up: npm ci (skipped when node_modules matches package-lock.json), sandbox up, bundles built;
#   2. the operator starts from dist/operator.mjs (a child of this script, stopped on exit);
#   3. a Secret (the sandbox's SSH key and known_hosts), a SlurmCluster and an InferenceBenchmark
#      (gemma3:270m, 2 clients x 2 requests) are applied with kubectl;
#   4. kubectl wait --for=condition=BenchmarkComplete, then `kubectl get ib -o wide` and the results.
# Environment: IBO_DEMO_NAMESPACE (default ibo-demo), IBO_DEMO_TIMEOUT (seconds, default 600),
# IBO_DEMO_KEEP=1 leaves the objects in place afterwards; IBO_DEMO_SKIP_NPM_CI=1 skips npm ci,
# IBO_DEMO_SKIP_SANDBOX_UP=1 uses a sandbox that is already up.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
NAMESPACE=${IBO_DEMO_NAMESPACE:-ibo-demo}
TIMEOUT=${IBO_DEMO_TIMEOUT:-600}
SANDBOX_FILE=${IBO_SANDBOX_FILE:-${IBO_SANDBOX_DIR:-/var/lib/ibo-sandbox}/sandbox.json}
LOG_DIR=$(mktemp -d /tmp/ibo-demo.XXXXXX)
OPERATOR_PID=

say() { printf '\n==> %s\n' "$*"; }

stop_operator() {
  if [[ -n "$OPERATOR_PID" ]] && kill -0 "$OPERATOR_PID" 2>/dev/null; then
    kill -TERM "$OPERATOR_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$OPERATOR_PID" 2>/dev/null || break
      # A zombie is dead: PID 1 here reaps late.
      [[ "$(awk '{print $3}' "/proc/$OPERATOR_PID/stat" 2>/dev/null)" == Z ]] && break
      sleep 0.5
    done
  fi
}

cleanup() {
  local status=$?
  if [[ "${IBO_DEMO_KEEP:-0}" != 1 && -n "$OPERATOR_PID" ]]; then
    # The operator still runs, so the finalizer cancels the benchmark's jobs.
    "$KUBECTL" -n "$NAMESPACE" delete ib --all --timeout=120s >/dev/null 2>&1 || true
    "$KUBECTL" -n "$NAMESPACE" delete slurmcluster --all --timeout=60s >/dev/null 2>&1 || true
  fi
  stop_operator
  if [[ $status -ne 0 ]]; then
    echo "demo failed; operator log: $LOG_DIR/operator.log" >&2
    tail -n 30 "$LOG_DIR/operator.log" >&2 2>/dev/null || true
  fi
  exit "$status"
}

say "set-up: npm dependencies"
if [[ "${IBO_DEMO_SKIP_NPM_CI:-0}" == 1 ]]; then
  echo "skipped (IBO_DEMO_SKIP_NPM_CI=1)"
elif [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
else
  echo "node_modules matches package-lock.json"
fi

say "set-up: sandbox (SLURM, sshd, Ollama, kube-apiserver)"
if [[ "${IBO_DEMO_SKIP_SANDBOX_UP:-0}" == 1 && -f "$SANDBOX_FILE" ]]; then
  echo "skipped (IBO_DEMO_SKIP_SANDBOX_UP=1; using $SANDBOX_FILE)"
else
  bash test/sandbox/sandbox up
fi

say "set-up: bundles"
node test/build-bundles.mjs

sandbox() { jq -r "$1" "$SANDBOX_FILE"; }
KUBECTL=$(sandbox .kube.kubectl)
export KUBECONFIG
KUBECONFIG=$(sandbox .kube.kubeconfig)
SSH_HOST=$(sandbox .hpc.ssh.host)
SSH_PORT=$(sandbox .hpc.ssh.port)
SSH_USER=$(sandbox .hpc.ssh.user)
WORK_DIR=$(sandbox .hpc.workDir)
MODEL=$(sandbox .hpc.ollama.model)
trap cleanup EXIT

say "CRDs"
"$KUBECTL" apply --server-side --force-conflicts -f crds/yaml/ >/dev/null
"$KUBECTL" wait --for=condition=Established --timeout=60s \
  crd/inferencebenchmarks.hpcbench.io crd/slurmclusters.hpcbench.io >/dev/null
"$KUBECTL" create namespace "$NAMESPACE" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null

say "starting the operator (log: $LOG_DIR/operator.log)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
METRICS_PORT=$(free_port)
HEALTH_PORT=$(free_port)
node dist/operator.mjs operator --kubeconfig "$KUBECONFIG" --namespaces "$NAMESPACE" \
  --metrics-bind "127.0.0.1:$METRICS_PORT" --health-bind "127.0.0.1:$HEALTH_PORT" \
  >"$LOG_DIR/operator.log" 2>&1 &
OPERATOR_PID=$!
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$HEALTH_PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$OPERATOR_PID" 2>/dev/null || { echo "the operator exited" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$HEALTH_PORT/readyz" >/dev/null

say "applying a Secret, a SlurmCluster and an InferenceBenchmark ($MODEL)"
"$KUBECTL" -n "$NAMESPACE" create secret generic sandbox-ssh \
  --from-file=privateKey="$(sandbox .hpc.ssh.privateKeyPath)" \
  --from-file=knownHosts="$(sandbox .hpc.ssh.knownHostsPath)" \
  --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
"$KUBECTL" apply -f - <<EOF
apiVersion: hpcbench.io/v1alpha1
kind: SlurmCluster
metadata:
  name: sandbox
  namespace: $NAMESPACE
spec:
  host: "$SSH_HOST"
  port: $SSH_PORT
  user: "$SSH_USER"
  sshSecretRef:
    name: sandbox-ssh
  workDir: "$WORK_DIR/demo"
  containerRuntime: native
  defaults:
    serverPartition: cpu
    clientPartition: cpu
  monitoring:
    enabled: true
    partition: cpu
    memGB: 1
    time: "02:00:00"
    scrapeIntervalSeconds: 5
---
apiVersion: hpcbench.io/v1alpha1
kind: InferenceBenchmark
metadata:
  name: demo
  namespace: $NAMESPACE
spec:
  clusterRef:
    name: sandbox
  model:
    name: "$MODEL"
  slurm:
    partition: cpu
    memGB: 2
    time: "00:20:00"
  clientService:
    partition: cpu
    memGB: 1
    cpus: 1
    time: "00:20:00"
  workload:
    clients: 2
    requestsPerClient: 2
    maxTokens: 16
    prompt: Explain in one sentence what a GPU does.
EOF

say "waiting for BenchmarkComplete (up to ${TIMEOUT}s)"
"$KUBECTL" -n "$NAMESPACE" wait --for=condition=BenchmarkComplete --timeout="${TIMEOUT}s" ib/demo

say "kubectl get ib -o wide"
"$KUBECTL" -n "$NAMESPACE" get ib -o wide

say "results summary"
"$KUBECTL" -n "$NAMESPACE" get ib demo -o json | jq '{
  phase: .status.phase,
  slurmJobs: [.status.slurmJobs[] | {role, id, state, node}],
  requests: .status.results.counts,
  outputTokensPerSecond: .status.results.outputTokensPerSecond,
  requestsPerSecond: .status.results.requestsPerSecond,
  ttftMs: .status.results.ttftMs,
  e2eMs: .status.results.e2eMs,
  clientTps: .status.results.clientTps
}'
