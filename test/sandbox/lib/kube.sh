#!/usr/bin/env bash
# The Kubernetes half of the sandbox: etcd, a real kube-apiserver (RBAC on) and a kube-controller-manager
# running only the garbage collector and the namespace controller, all on 127.0.0.1; an admin kubeconfig, and
# ServiceAccount tokens for RBAC tests. Objects with ownerReferences are garbage-collected and deleted
# namespaces go away, as in a real cluster. There is no scheduler or kubelet: Pods never run.
#
# Usage: kube.sh install | up | down [--purge] | status | token <namespace> <serviceaccount> [seconds]
# Writes $IBO_SANDBOX_DIR/kube.json (the `kube` section of sandbox.json, see test/sandbox/description.ts).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"
# shellcheck source=common.sh
. "$here/common.sh"

STATE=$IBO_SANDBOX_DIR
KUBE_DIR=$STATE/kube
PKI=$KUBE_DIR/pki
ETCD_DATA=$KUBE_DIR/etcd-data
KUBECONFIG_ADMIN=$KUBE_DIR/admin.kubeconfig
FRAGMENT=$STATE/kube.json
APISERVER_PORT=${IBO_KUBE_APISERVER_PORT:-6443}
KCM_PORT=${IBO_KUBE_CONTROLLER_MANAGER_PORT:-10257}
ETCD_CLIENT_PORT=${IBO_KUBE_ETCD_CLIENT_PORT:-23790}
ETCD_PEER_PORT=${IBO_KUBE_ETCD_PEER_PORT:-23800}
SERVER=https://127.0.0.1:$APISERVER_PORT
KUBECTL=$IBO_BIN/kubectl
HELM=$IBO_BIN/helm

# Fresh binaries are built once and cached outside the repo; a cached build costs nothing.
install_kube() {
  local tool
  for tool in openssl curl jq flock; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install openssl curl jq util-linux)"
  done
  command -v go >/dev/null || die "go is missing: the sandbox builds etcd, kube-apiserver, kubectl and helm from source"
  bash "$here/build-go.sh" etcd
  bash "$here/build-go.sh" kube
  bash "$here/build-go.sh" kcm
  bash "$here/build-go.sh" helm
}

# openssl helpers: one CA signs the serving cert and the admin client cert, and the apiserver trusts it
# for client certificates. EC keys keep generation instant.
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }
sign_cert() { # name, subject, extensions
  new_key "$PKI/$1.key"
  openssl req -new -key "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr" 2>/dev/null
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile <(printf '%s\n' "$3") -out "$PKI/$1.crt" 2>/dev/null
  rm -f "$PKI/$1.csr"
}

ensure_pki() {
  [ -s "$PKI/admin.crt" ] && [ -s "$PKI/sa.key" ] && return 0
  log "generating the sandbox CA, serving, admin and service-account keys in $PKI"
  rm -rf "$PKI" && mkdir -p "$PKI" && chmod 700 "$PKI"
  new_key "$PKI/ca.key"
  openssl req -x509 -new -key "$PKI/ca.key" -subj /CN=ibo-sandbox-ca -days 3650 -sha256 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out "$PKI/ca.crt" 2>/dev/null
  # The in-cluster names are on the serving cert so a client that uses kubernetes.default.svc also verifies.
  sign_cert apiserver /CN=kube-apiserver "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  # O=system:masters is what makes this identity an admin: that group is bound to cluster-admin.
  sign_cert admin "/O=system:masters/CN=ibo-sandbox-admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  # ServiceAccount tokens (TokenRequest) are signed with this key and verified with its public half.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key" 2>/dev/null
  chmod 600 "$PKI/sa.key"
  openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
}

write_admin_kubeconfig() {
  local tmp=$KUBECONFIG_ADMIN.tmp
  (umask 077 && cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ibo-sandbox
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: ibo-sandbox-admin
  user:
    client-certificate-data: $(base64 -w0 "$PKI/admin.crt")
    client-key-data: $(base64 -w0 "$PKI/admin.key")
contexts:
- name: ibo-sandbox
  context:
    cluster: ibo-sandbox
    user: ibo-sandbox-admin
    namespace: default
current-context: ibo-sandbox
EOF
  )
  mv -f "$tmp" "$KUBECONFIG_ADMIN"
}

write_fragment() {
  jq -n --arg server "$SERVER" --arg kubeconfig "$KUBECONFIG_ADMIN" --arg kubectl "$KUBECTL" \
    --arg helm "$HELM" --arg version "$KUBE_VERSION" \
    '{server: $server, kubeconfig: $kubeconfig, kubectl: $kubectl, helm: $helm, version: $version}' \
    >"$FRAGMENT.tmp"
  mv -f "$FRAGMENT.tmp" "$FRAGMENT"
}

etcd_healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }
apiserver_ready() { curl -fsS --max-time 2 --cacert "$PKI/ca.crt" "$SERVER/readyz" >/dev/null 2>&1; }

# Starts a daemon in its own session with its output in a log file and records its PID. Neither etcd nor
# kube-apiserver daemonizes itself.
start_daemon() { # name, command...
  local name=$1; shift
  setsid nohup "$@" >>"$KUBE_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$KUBE_DIR/$name.pid"
}

start_etcd() {
  if pidfile_alive "$KUBE_DIR/etcd.pid" "$IBO_BIN/etcd"; then
    wait_until 30 etcd_healthy && return 0
    die "our etcd (pid $(pid_from_file "$KUBE_DIR/etcd.pid")) runs but is not healthy; see $KUBE_DIR/etcd.log"
  fi
  port_listening "$ETCD_CLIENT_PORT" && die "port $ETCD_CLIENT_PORT is taken by something that is not our etcd"
  mkdir -p "$ETCD_DATA" && chmod 700 "$ETCD_DATA"
  # --unsafe-no-fsync: the sandbox's data is disposable, and fsync dominates etcd's latency on small disks.
  start_daemon etcd "$IBO_BIN/etcd" --name ibo-sandbox --data-dir "$ETCD_DATA" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "ibo-sandbox=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level warn
  wait_until 30 etcd_healthy || { tail -n 30 "$KUBE_DIR/etcd.log" >&2; die "etcd did not become healthy in 30 s"; }
}

start_apiserver() {
  # Ours but not ready yet (another `up` just started it): wait for it rather than start a second one.
  if pidfile_alive "$KUBE_DIR/kube-apiserver.pid" "$IBO_BIN/kube-apiserver"; then
    wait_until 60 apiserver_ready && return 0
    die "our kube-apiserver (pid $(pid_from_file "$KUBE_DIR/kube-apiserver.pid")) runs but is not ready; see $KUBE_DIR/kube-apiserver.log"
  fi
  port_listening "$APISERVER_PORT" && die "port $APISERVER_PORT is taken by something that is not our kube-apiserver"
  # Flags in the style of controller-runtime's envtest. The advertise address is explicit because without a
  # default route the apiserver cannot pick one.
  start_daemon kube-apiserver "$IBO_BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --client-ca-file="$PKI/ca.crt" \
    --authorization-mode=RBAC \
    --service-cluster-ip-range=10.0.0.0/24 \
    --service-account-issuer="$SERVER" \
    --service-account-key-file="$PKI/sa.pub" \
    --service-account-signing-key-file="$PKI/sa.key" \
    --allow-privileged=true --profiling=false
  if ! wait_until 60 apiserver_ready; then
    tail -n 40 "$KUBE_DIR/kube-apiserver.log" >&2
    die "kube-apiserver did not answer /readyz in 60 s (log: $KUBE_DIR/kube-apiserver.log)"
  fi
}

kcm_healthy() { curl -fsSk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz" 2>/dev/null | grep -q '^ok$'; }

# Only the controllers whose absence a test would notice: the garbage collector (ownerReferences, e.g. the
# results ConfigMaps of benchmarks) and the namespace controller (deleted namespaces go away). It runs as the
# sandbox admin: no per-controller credentials, no leader election (one instance), no service-account
# signing (the apiserver's TokenRequest already issues tokens).
start_kcm() {
  if pidfile_alive "$KUBE_DIR/kube-controller-manager.pid" "$IBO_BIN/kube-controller-manager"; then
    wait_until 60 kcm_healthy && return 0
    die "our kube-controller-manager (pid $(pid_from_file "$KUBE_DIR/kube-controller-manager.pid")) runs but is not healthy; see $KUBE_DIR/kube-controller-manager.log"
  fi
  port_listening "$KCM_PORT" && die "port $KCM_PORT is taken by something that is not our kube-controller-manager"
  start_daemon kube-controller-manager "$IBO_BIN/kube-controller-manager" \
    --kubeconfig="$KUBECONFIG_ADMIN" \
    --authentication-kubeconfig="$KUBECONFIG_ADMIN" --authorization-kubeconfig="$KUBECONFIG_ADMIN" \
    --authentication-skip-lookup=true \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --cert-dir="$KUBE_DIR/kcm-certs" \
    --controllers=garbagecollector,namespace \
    --leader-elect=false --use-service-account-credentials=false --profiling=false
  if ! wait_until 60 kcm_healthy; then
    tail -n 40 "$KUBE_DIR/kube-controller-manager.log" >&2
    die "kube-controller-manager did not answer /healthz in 60 s (log: $KUBE_DIR/kube-controller-manager.log)"
  fi
}

up_kube() {
  phase_begin kube-build
  install_kube
  phase_end
  phase_begin kube-start
  mkdir -p "$KUBE_DIR" && chmod 700 "$KUBE_DIR"
  # Two `up`s at once (two terminals, two test runs) must not both start etcd: the second waits here and
  # then finds everything running.
  exec 8>"$KUBE_DIR/up.lock"
  flock 8
  ensure_pki
  start_etcd
  start_apiserver
  write_admin_kubeconfig
  start_kcm
  write_fragment
  flock -u 8
  phase_end
  log "kube-apiserver ready at $SERVER (kubeconfig $KUBECONFIG_ADMIN)"
  phase_summary
}

down_kube() {
  # The controller-manager, then the apiserver, so neither sees what it talks to vanish under a request.
  stop_pidfile "$KUBE_DIR/kube-controller-manager.pid" "$IBO_BIN/kube-controller-manager" 10
  stop_pidfile "$KUBE_DIR/kube-apiserver.pid" "$IBO_BIN/kube-apiserver" 15
  stop_pidfile "$KUBE_DIR/etcd.pid" "$IBO_BIN/etcd" 10
  rm -f "$FRAGMENT"
  if [ "${1:-}" = --purge ]; then
    log "removing etcd data and keys in $KUBE_DIR"
    rm -rf "$KUBE_DIR"
  fi
}

status_kube() {
  local ok=0
  if pidfile_alive "$KUBE_DIR/etcd.pid" "$IBO_BIN/etcd" && etcd_healthy; then
    echo "etcd: healthy (pid $(pid_from_file "$KUBE_DIR/etcd.pid"), 127.0.0.1:$ETCD_CLIENT_PORT)"
  else
    echo "etcd: down"; ok=1
  fi
  if pidfile_alive "$KUBE_DIR/kube-apiserver.pid" "$IBO_BIN/kube-apiserver" && apiserver_ready; then
    echo "kube-apiserver: ready (pid $(pid_from_file "$KUBE_DIR/kube-apiserver.pid"), $SERVER)"
  else
    echo "kube-apiserver: down"; ok=1
  fi
  if pidfile_alive "$KUBE_DIR/kube-controller-manager.pid" "$IBO_BIN/kube-controller-manager" && kcm_healthy; then
    echo "kube-controller-manager: healthy (pid $(pid_from_file "$KUBE_DIR/kube-controller-manager.pid"), 127.0.0.1:$KCM_PORT, garbagecollector+namespace)"
  else
    echo "kube-controller-manager: down"; ok=1
  fi
  return "$ok"
}

# Prints a fresh token of the ServiceAccount (created, with its namespace, when missing) on stdout, for
# RBAC tests and for running the operator under its own identity.
token_kube() { # namespace, serviceaccount, seconds
  local ns=${1:?usage: kube.sh token <namespace> <serviceaccount> [seconds]} sa=${2:?usage: kube.sh token <namespace> <serviceaccount> [seconds]}
  local seconds=${3:-3600} kc=(--kubeconfig "$KUBECONFIG_ADMIN")
  "$KUBECTL" "${kc[@]}" create namespace "$ns" --dry-run=client -o yaml | "$KUBECTL" "${kc[@]}" apply -f - >/dev/null
  "$KUBECTL" "${kc[@]}" -n "$ns" create serviceaccount "$sa" --dry-run=client -o yaml |
    "$KUBECTL" "${kc[@]}" apply -f - >/dev/null
  "$KUBECTL" "${kc[@]}" -n "$ns" create token "$sa" --duration "${seconds}s"
}

# Sourcing the file (for a quick check of one function) defines everything and runs nothing.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0
case "${1:-}" in
  install) install_kube ;;
  up) up_kube ;;
  down) down_kube "${2:-}" ;;
  status) status_kube ;;
  token) shift; token_kube "$@" ;;
  *) echo "usage: $0 install | up | down [--purge] | status | token <namespace> <serviceaccount> [seconds]" >&2; exit 2 ;;
esac
