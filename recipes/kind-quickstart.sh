#!/usr/bin/env bash
# Try the operator on a laptop with Docker: a kind cluster, the image built locally, the chart, and one
# benchmark against YOUR SLURM cluster over SSH.
#
#   SLURM_HOST=login.example.org SLURM_USER=alice SSH_KEY=~/.ssh/id_ed25519 \
#     SLURM_PARTITION=gpu MODEL=llama3.2:1b bash recipes/kind-quickstart.sh
#
# Optional: SLURM_PORT (22), KNOWN_HOSTS (a file; default: ssh-keyscan of the host, which you must check),
# SLURM_ACCOUNT, CLIENT_PARTITION (defaults to SLURM_PARTITION), CONTAINER_RUNTIME (apptainer), WORK_DIR
# (hpcbench), CLUSTER_NAME (ibo), NAMESPACE (benchmarks), IMAGE (inference-benchmark-operator:dev).
# Remove everything with: kind delete cluster --name "$CLUSTER_NAME"
set -euo pipefail

: "${SLURM_HOST:?set SLURM_HOST to your login node}"
: "${SLURM_USER:?set SLURM_USER to your login name on it}"
: "${SSH_KEY:?set SSH_KEY to an unencrypted private key that logs you in}"
: "${SLURM_PARTITION:?set SLURM_PARTITION to the partition the Ollama server runs on}"
SLURM_PORT=${SLURM_PORT:-22}
MODEL=${MODEL:-llama3.2:1b}
CLIENT_PARTITION=${CLIENT_PARTITION:-$SLURM_PARTITION}
CONTAINER_RUNTIME=${CONTAINER_RUNTIME:-apptainer}
WORK_DIR=${WORK_DIR:-hpcbench}
CLUSTER_NAME=${CLUSTER_NAME:-ibo}
NAMESPACE=${NAMESPACE:-benchmarks}
IMAGE=${IMAGE:-inference-benchmark-operator:dev}
RELEASE=hpcbench
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

need() { command -v "$1" >/dev/null || { echo "missing tool: $1" >&2; exit 1; }; }
for tool in docker kind kubectl helm ssh-keyscan; do need "$tool"; done

step() { printf '\n==> %s\n' "$*"; }

step "kind cluster $CLUSTER_NAME"
if ! kind get clusters | grep -qx "$CLUSTER_NAME"; then
  kind create cluster --name "$CLUSTER_NAME" --wait 120s
fi
kubectl config use-context "kind-$CLUSTER_NAME" >/dev/null

step "image $IMAGE (built here, loaded into kind: no registry needed)"
docker build -t "$IMAGE" "$repo_root"
kind load docker-image "$IMAGE" --name "$CLUSTER_NAME"

step "known_hosts of $SLURM_HOST"
known_hosts=$(mktemp)
trap 'rm -f "$known_hosts"' EXIT
if [ -n "${KNOWN_HOSTS:-}" ]; then
  cp "$KNOWN_HOSTS" "$known_hosts"
else
  ssh-keyscan -p "$SLURM_PORT" "$SLURM_HOST" >"$known_hosts" 2>/dev/null
  echo "Scanned host keys; compare them with what your admins publish before you trust them:"
  ssh-keygen -lf "$known_hosts"
fi

step "operator (chart) watching namespace $NAMESPACE"
kubectl create namespace "$NAMESPACE" --dry-run=client -o yaml | kubectl apply -f -
helm upgrade --install "$RELEASE" "$repo_root/charts/inference-benchmark-operator" \
  --namespace hpcbench-system --create-namespace \
  --set image.repository="${IMAGE%:*}" --set image.tag="${IMAGE##*:}" --set image.pullPolicy=Never \
  --set "rbac.watchNamespaces={$NAMESPACE}" \
  --set tunnel.namespace="$NAMESPACE" --set tunnel.slurmCluster=my-cluster \
  --wait --timeout 3m

step "SSH Secret and SlurmCluster"
kubectl -n "$NAMESPACE" create secret generic my-cluster-ssh \
  --from-file=privateKey="$SSH_KEY" --from-file=knownHosts="$known_hosts" \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -f - <<MANIFEST
apiVersion: hpcbench.io/v1alpha1
kind: SlurmCluster
metadata:
  name: my-cluster
  namespace: $NAMESPACE
spec:
  host: $SLURM_HOST
  port: $SLURM_PORT
  user: $SLURM_USER
  sshSecretRef:
    name: my-cluster-ssh
  workDir: $WORK_DIR
  containerRuntime: $CONTAINER_RUNTIME
  defaults:
    serverPartition: $SLURM_PARTITION
    clientPartition: $CLIENT_PARTITION
MANIFEST
kubectl -n "$NAMESPACE" wait --for=condition=Ready slurmcluster/my-cluster --timeout=3m

step "benchmark"
kubectl apply -f - <<MANIFEST
apiVersion: hpcbench.io/v1alpha1
kind: InferenceBenchmark
metadata:
  name: quickstart
  namespace: $NAMESPACE
spec:
  clusterRef:
    name: my-cluster
  model:
    name: $MODEL
  slurm:
    partition: $SLURM_PARTITION
${SLURM_ACCOUNT:+    account: $SLURM_ACCOUNT}
  workload:
    clients: 4
    requestsPerClient: 5
MANIFEST

cat <<EOF

Watch it:    kubectl -n $NAMESPACE get inferencebenchmarks -w
Wait for it: kubectl -n $NAMESPACE wait --for=condition=BenchmarkComplete ib/quickstart --timeout=2h
Grafana:     kubectl -n hpcbench-system port-forward svc/$RELEASE-grafana 3000:3000   # then http://127.0.0.1:3000
EOF
