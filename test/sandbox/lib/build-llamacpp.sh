#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds llama-cpp-python[server] (llama.cpp's OpenAI-compatible server for the sandbox) ONCE from its PyPI
# sdist with cmake, into a venv cached outside the repo: $IBO_CACHE/venvs/llama-cpp-python-<version>-py<X.Y>.
# The venv is complete only when its stamp (versions.sh LLAMACPP_STAMP) is written; a stamped venv is never
# rebuilt. pip's output goes to $IBO_CACHE/logs/llama-cpp-python.log, the wall time to .build.
#
# Usage: build-llamacpp.sh build   build now unless stamped (what `start` runs in the background)
#        build-llamacpp.sh start   unless stamped, start `build` detached at nice 19 and return at once
#        build-llamacpp.sh wait    wait for a build `start` began (or build now); fail unless stamped
#        build-llamacpp.sh venv    print the venv's path
#
# The build is ~14 min of one core (issue 15). `sandbox up` starts it right after apt, so it overlaps the Go
# builds, and waits for it after both halves are up. At nice 19 it takes only the CPU the Go builds leave.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.sh"
. "$here/common.sh"

# Debian's python (python3-venv), never the first python3 on root's PATH: that may live under /root (pyenv),
# where the cluster user cannot run the venv's interpreter.
PYTHON=/usr/bin/python3
PY_VERSION=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
VENV=$IBO_CACHE/venvs/llama-cpp-python-$LLAMACPP_PYPI_VERSION-py$PY_VERSION
LOG=$IBO_CACHE/logs/llama-cpp-python.log
SUMMARY=$IBO_CACHE/logs/llama-cpp-python.build
LOCK=$IBO_CACHE/locks/llama-cpp-python.lock
PIDFILE=$IBO_CACHE/locks/llama-cpp-python.pid # the detached build `start` began
mkdir -p "$IBO_CACHE/venvs" "$IBO_CACHE/logs" "$IBO_CACHE/locks"

stamped() {
  [[ "$(cat "$VENV/.ibo-stamp" 2>/dev/null)" == "$LLAMACPP_STAMP" ]] && grep -qx "home = ${PYTHON%/*}" "$VENV/pyvenv.cfg"
}

build_locked() {
  stamped && return 0
  local start=$SECONDS
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  {
    echo "== $(date -u +%FT%TZ) llama-cpp-python[server]==$LLAMACPP_PYPI_VERSION, stamp $LLAMACPP_STAMP"
    # Only llama-cpp-python comes from source (PyPI serves it as an sdist only anyway); its dependencies
    # and build requirements are wheels. CMake flags:
    # - GGML_NATIVE=OFF: ggml then turns on AVX, AVX2, FMA and F16C itself (ggml/CMakeLists.txt, INS_ENB);
    #   without them it would decode at a fraction of the speed.
    # - LLAVA_BUILD=OFF: no mtmd (multimodal) library; llama_cpp imports it only for image chat formats.
    # - CPU only, no curl (llama-cpp-python turns curl off itself).
    # --verbose puts cmake's and the compiler's output into the log. --no-cache-dir: pip's wheel cache would
    # hand a rebuild (a new stamp, same version) the wheel built with the old CMAKE_ARGS.
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DGGML_CUDA=OFF -DGGML_VULKAN=OFF -DGGML_METAL=OFF -DGGML_BLAS=OFF" \
      CMAKE_BUILD_PARALLEL_LEVEL=2 PIP_NO_INPUT=1 \
      /usr/bin/time -f "%M %U %S" -o "$SUMMARY.time" \
      "$VENV/bin/pip" install --verbose --no-cache-dir --disable-pip-version-check --no-binary llama-cpp-python \
      "llama-cpp-python[server]==$LLAMACPP_PYPI_VERSION"
    # The import loads libllama and libggml, so a broken build fails here and is never stamped.
    "$VENV/bin/python" -c 'import llama_cpp, llama_cpp.server.app; print("llama_cpp", llama_cpp.__version__)'
    "$VENV/bin/pip" freeze --disable-pip-version-check
  } >>"$LOG" 2>&1 || { echo "llama-cpp-python build failed; see $LOG" >&2; return 1; }
  # CPU seconds as well as wall time: on a shared machine the wall time says more about the neighbours.
  local rss user sys
  read -r rss user sys <"$SUMMARY.time"
  echo "built llama-cpp-python $LLAMACPP_PYPI_VERSION in $((SECONDS - start)) s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", u + s }') s CPU, peak RSS $((rss / 1024)) MiB" |
    tee "$SUMMARY" >&2
  echo "$LLAMACPP_STAMP" >"$VENV/.ibo-stamp"
}

# Two sandboxes (or a CI job and a developer) may build at once: the second waits and then finds the stamp.
build() {
  stamped && return 0
  (flock -n 9 || { echo "waiting for another build of llama-cpp-python (log $LOG)" >&2; flock 9; } && build_locked) \
    9>"$LOCK"
}

building() { pidfile_alive "$PIDFILE" build-llamacpp.sh; }

start() {
  stamped && return 0
  building && return 0
  log "building llama-cpp-python $LLAMACPP_PYPI_VERSION in the background at nice 19 (log $LOG)"
  # setsid + no inherited descriptors: `flock LOCK sandbox up` must not leave the build holding that lock.
  (close_inherited_fds && exec setsid nice -n 19 bash "$0" build </dev/null >>"$LOG" 2>&1) &
  echo "$!" >"$PIDFILE"
}

wait_build() {
  local started=no
  [[ -e $PIDFILE ]] && started=yes
  if building; then
    log "waiting for the llama-cpp-python build (pid $(pid_from_file "$PIDFILE"), log $LOG)"
    # tail --pid sleeps in the kernel between its checks; no polling loop here.
    timeout 5400 tail --pid="$(pid_from_file "$PIDFILE")" -f /dev/null ||
      die "the llama-cpp-python build did not finish within 90 min"
  fi
  rm -f "$PIDFILE"
  stamped && return 0
  # A started build that failed is not tried again (it would fail the same way, 14 min later).
  [[ $started == no ]] && nice -n 19 bash "$0" build && return 0
  tail -n 30 "$LOG" >&2
  die "llama-cpp-python did not build; see $LOG"
}

# close_inherited_fds lives in hpc.sh; a copy here keeps this script standalone.
close_inherited_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd=${fd##*/}
    ((fd > 2)) && eval "exec $fd>&-"
  done
  return 0
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  wait) wait_build ;;
  venv) echo "$VENV" ;;
  *) echo "usage: $0 build|start|wait|venv" >&2; exit 2 ;;
esac
