#!/bin/bash
#SBATCH --job-name=ibo-test-http
#SBATCH --time=10
# Serves HTTP on a free loopback port and writes {"http": "127.0.0.1:<port>"} to
# ~/hpcbench/test-endpoints/<job id>.json. It also starts two processes that scancel must end as well: a
# plain child, and a double-forked one that escapes the job's process tree. Both carry the marker
# ibo-child-<job id> in their argv so a test can look for them.
set -euo pipefail
dir=$HOME/hpcbench/test-endpoints
mkdir -p "$dir"
marker=ibo-child-$SLURM_JOB_ID
bash -c "exec -a $marker-plain sleep 600" &
(setsid bash -c "exec -a $marker-escaped sleep 600" &)
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
exec node -e '
const http = require("node:http");
const fs = require("node:fs");
const job = process.env.SLURM_JOB_ID;
const server = http.createServer((req, res) => res.end(`hello from job ${job}\n`));
server.listen(0, "127.0.0.1", () => {
  const file = `${process.argv[1]}/${job}.json`;
  fs.writeFileSync(`${file}.tmp`, JSON.stringify({ http: `127.0.0.1:${server.address().port}` }));
  fs.renameSync(`${file}.tmp`, file);
});
' "$dir"
