#!/usr/bin/env bash
# Prints the Kubernetes half's figures: cold build time and peak RSS per binary (from build-go.sh's logs),
# the warm start of `kube.sh up` to /readyz with every binary cached, and kube-apiserver's RSS at idle.
# Restarts the control plane (down, then up); etcd data and keys are kept, as in a normal second `up`.
# Usage: measure.sh [idle seconds, default 60]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kube_sh=$here/../lib/kube.sh
# shellcheck source=../lib/kube.sh
. "$kube_sh"
idle_seconds=${1:-60}

echo "== cold builds (build-go.sh logs; wall time depends on what else was building at the time)"
for name in etcd kube-apiserver kubectl helm; do
  cat "$IBO_CACHE/logs/$name.build" 2>/dev/null || echo "$name: no build log (built elsewhere or not yet)"
done

echo "== warm start"
bash "$kube_sh" down >/dev/null 2>&1
start=$(date +%s.%N)
bash "$kube_sh" up >/dev/null 2>&1
ready=$(date +%s.%N)
awk -v a="$start" -v b="$ready" 'BEGIN { printf "kube.sh up to /readyz (binaries cached, keys and etcd data kept): %.1f s\n", b - a }'

rss_mib() { awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }
apiserver_pid=$(pid_from_file "$KUBE_DIR/kube-apiserver.pid")
etcd_pid=$(pid_from_file "$KUBE_DIR/etcd.pid")
echo "== idle RSS (sampled every 5 s for ${idle_seconds} s after /readyz, nothing else talking to it)"
peak=0
for ((i = 0; i < idle_seconds; i += 5)); do
  sleep 5 # sampling interval of a measurement, not a wait for a condition
  rss=$(rss_mib "$apiserver_pid")
  ((rss > peak)) && peak=$rss
done
echo "kube-apiserver RSS after ${idle_seconds} s idle: $(rss_mib "$apiserver_pid") MiB (peak seen $peak MiB)"
echo "etcd RSS: $(rss_mib "$etcd_pid") MiB"
