# Shared shell helpers of the sandbox scripts. Sourced, never run.
# shellcheck shell=bash

IBO_SANDBOX_DIR=${IBO_SANDBOX_DIR:-/var/lib/ibo-sandbox}

log() { printf '[sandbox %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Phase timing: `phase_begin name` ... `phase_end`; `phase_summary` prints every phase's wall time, which is
# what the closing note quotes for cold and warm runs.
IBO_PHASES=()
phase_begin() { IBO_PHASE_NAME=$1; IBO_PHASE_START=$(date +%s.%N); log "phase $1 ..."; }
phase_end() {
  local took
  took=$(awk -v a="$IBO_PHASE_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  IBO_PHASES+=("$IBO_PHASE_NAME=${took}s")
  log "phase $IBO_PHASE_NAME done in ${took} s"
}
phase_summary() { log "phases: ${IBO_PHASES[*]}"; }

# A process is alive unless it is gone or a zombie: PID 1 on these machines reaps orphans only every ~2 s,
# so `kill -0` keeps saying "alive" for a daemon that already exited.
pid_alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

pid_from_file() { [[ -s $1 ]] && tr -dc '0-9' <"$1"; }

# True when the pid file names a live process whose command contains the expected text, so a recycled
# PID of some unrelated program is never taken for ours.
pidfile_alive() { # pidfile, expected command text
  local pid
  pid=$(pid_from_file "$1") || return 1
  [[ -n $pid ]] && pid_alive "$pid" && ps -o args= -p "$pid" 2>/dev/null | grep -qF -- "$2"
}

# Waits until the command succeeds or the deadline (seconds) passes. Polls every 0.2 s.
wait_until() { # seconds, command...
  local deadline=$(($(date +%s) + $1)); shift
  until "$@"; do
    (($(date +%s) >= deadline)) && return 1
    sleep 0.2
  done
}

pid_dead() { ! pid_alive "$1"; }

# Stops one process by PID: TERM, wait up to $2 seconds, then KILL.
stop_pid() { # pid, grace seconds
  local pid=$1 grace=${2:-10}
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_until "$grace" pid_dead "$pid"; then
    log "pid $pid ignored SIGTERM for ${grace} s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 5 pid_dead "$pid" || log "pid $pid still alive after SIGKILL"
  fi
}

# Stops the process named by a pid file if it still runs the expected program, then removes the file.
stop_pidfile() { # pidfile, expected command text, grace seconds
  local pid
  if pidfile_alive "$1" "$2"; then
    pid=$(pid_from_file "$1")
    log "stopping $2 (pid $pid)"
    stop_pid "$pid" "${3:-10}"
  fi
  rm -f "$1"
}

# Is something listening on 127.0.0.1 or 0.0.0.0 at this TCP port?
port_listening() { ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
