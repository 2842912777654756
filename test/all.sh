#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, brings up the sandbox (real SLURM,
# sshd, Ollama, Prometheus, etcd, kube-apiserver), builds the bundles, lints, typechecks and runs every test.
# Idempotent. A sandbox that was already up is left up; one this script started is taken down at the end
# (set IBO_KEEP_SANDBOX=1 to keep it).
set -euo pipefail
cd "$(dirname "$0")/.."

phase() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

phase "npm ci"
npm ci --no-audit --no-fund

phase "chromium"
# Debian's chromium for the browser tests (test/kubectl-hpcbench); they skip with a message without it.
if [ ! -x /usr/bin/chromium ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium ||
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }
fi

phase "sandbox up"
was_up=0
bash test/sandbox/sandbox status >/dev/null 2>&1 && was_up=1
bash test/sandbox/sandbox up
if [ "$was_up" = 0 ] && [ "${IBO_KEEP_SANDBOX:-0}" != 1 ]; then
  trap 'phase "sandbox down"; bash test/sandbox/sandbox down' EXIT
fi

phase "build bundles"
npm run -s build

phase "lint"
npm run -s lint

phase "typecheck"
npm run -s typecheck

phase "tests"
# The suite runs alone here, so the destructive `sandbox down` test may stop and restart the HPC half.
IBO_TEST_SANDBOX_DOWN=${IBO_TEST_SANDBOX_DOWN:-1} npx vitest run "$@"
