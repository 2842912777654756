#!/bin/bash
#SBATCH --job-name=ibo-test-prometheus
#SBATCH --time=15
# Runs a Pushgateway and a Prometheus that scrapes it every second (honor_labels, so pushed job/instance
# labels stay as pushed), both on free loopback ports. Once both are ready it writes
# {"prometheus": "127.0.0.1:<port>", "pushgateway": "127.0.0.1:<port>"} to
# ~/hpcbench/test-endpoints/<job id>.json.
set -euo pipefail
dir=$HOME/hpcbench/test-endpoints
mkdir -p "$dir"
file=$dir/$SLURM_JOB_ID.json
run=$(mktemp -d "${TMPDIR:-/tmp}/ibo-prometheus-$SLURM_JOB_ID.XXXXXX")
cleanup() { rm -rf "$run" "$file" "$file.tmp"; }
trap cleanup EXIT
trap 'exit 143' TERM INT
free_port() { node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
pushgateway_port=$(free_port)
prometheus_port=$(free_port)
cat >"$run/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: pushgateway
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$pushgateway_port']
YAML
promtool check config "$run/prometheus.yml" >/dev/null
prometheus-pushgateway --web.listen-address="127.0.0.1:$pushgateway_port" >"$run/pushgateway.log" 2>&1 &
prometheus --config.file="$run/prometheus.yml" --storage.tsdb.path="$run/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$run/prometheus.log" 2>&1 &
for url in "http://127.0.0.1:$pushgateway_port/-/ready" "http://127.0.0.1:$prometheus_port/-/ready"; do
  until curl -fsS -o /dev/null "$url"; do sleep 0.2; done
done
printf '{"prometheus":"127.0.0.1:%s","pushgateway":"127.0.0.1:%s"}\n' "$prometheus_port" "$pushgateway_port" >"$file.tmp"
mv -f "$file.tmp" "$file"
# Ends when either server dies, so a crash shows as a finished job rather than a silent hang.
wait -n
