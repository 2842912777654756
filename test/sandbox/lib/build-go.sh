#!/usr/bin/env bash
# Builds the sandbox's Go binaries from the Go module proxy and caches them outside the repo.
# Usage: build-go.sh [etcd|kube|helm|ollama|all]
# Every binary lands in $IBO_CACHE/bin with a version stamp; a cached binary is never rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

mkdir -p "$IBO_BIN" "$IBO_CACHE/build" "$IBO_CACHE/logs"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

stamp_ok() { [ -x "$IBO_BIN/$1" ] && [ "$(cat "$IBO_BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$IBO_BIN/.$1.version"; }
timed() { # name, command...: runs, logs peak RSS and wall time
  local name=$1; shift
  local start=$SECONDS
  /usr/bin/time -f "%M" -o "$IBO_CACHE/logs/$name.maxrss" "$@"
  echo "built $name in $((SECONDS - start)) s, peak RSS $(($(cat "$IBO_CACHE/logs/$name.maxrss") / 1024)) MiB" | tee "$IBO_CACHE/logs/$name.build"
}

build_etcd() {
  stamp_ok etcd "$ETCD_VERSION" && return 0
  local d="$IBO_CACHE/build/etcd"
  rm -rf "$d" && mkdir -p "$d" && cp "$here/../go/etcd/main.go" "$d/"
  (cd "$d" && printf 'module ibo.local/etcd\n\ngo 1.24\n' >go.mod &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 &&
    timed etcd go build -o "$IBO_BIN/etcd" .)
  stamp etcd "$ETCD_VERSION"
}

build_kube() {
  stamp_ok kube-apiserver "$KUBE_VERSION" && stamp_ok kubectl "$KUBE_VERSION" && return 0
  local d="$IBO_CACHE/build/kube" staging
  rm -rf "$d" && mkdir -p "$d" && cp "$here/../go/kube/tools.go" "$d/"
  # The staging modules are the k8s.io requires pinned at v0.0.0 in that tag's go.mod.
  staging=$(curl -fsS "$(go env GOPROXY | cut -d, -f1)/k8s.io/kubernetes/@v/$KUBE_VERSION.mod" |
    awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}')
  [ -n "$staging" ] || { echo "could not read staging modules of $KUBE_VERSION" >&2; return 1; }
  {
    printf 'module ibo.local/kube\n\ngo 1.24\n\nrequire k8s.io/kubernetes %s\n\n' "$KUBE_VERSION"
    for m in $staging; do printf 'replace %s => %s %s\n' "$m" "$m" "${KUBE_VERSION/v1./v0.}"; done
  } >"$d/go.mod"
  (cd "$d" && go mod tidy >/dev/null 2>&1 || true
    timed kube-apiserver go build -o "$IBO_BIN/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
    timed kubectl go build -o "$IBO_BIN/kubectl" k8s.io/kubernetes/cmd/kubectl)
  stamp kube-apiserver "$KUBE_VERSION"; stamp kubectl "$KUBE_VERSION"
}

build_helm() {
  stamp_ok helm "$HELM_VERSION" && return 0
  GOBIN="$IBO_BIN" timed helm go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  stamp helm "$HELM_VERSION"
}

# Go module zips drop every vendor/ folder, so llama.cpp's vendored single-header libraries are missing
# from the module. nlohmann-json and stb come from Debian (see HPC_APT_PACKAGES); miniaudio.h ships in
# the sdist of the PyPI package "miniaudio".
ollama_headers() {
  local inc="$IBO_CACHE/include"
  [ -f "$inc/miniaudio/miniaudio.h" ] && { echo "$inc"; return 0; }
  local tmp; tmp=$(mktemp -d)
  pip download --quiet --no-deps --no-binary :all: "miniaudio==$MINIAUDIO_PYPI_VERSION" -d "$tmp" >&2
  mkdir -p "$inc/miniaudio"
  tar -xzf "$tmp"/miniaudio-*.tar.gz -C "$tmp"
  cp "$tmp"/miniaudio-*/miniaudio/miniaudio.h "$inc/miniaudio/"
  rm -rf "$tmp"
  echo "$inc"
}

build_ollama() {
  stamp_ok ollama "$OLLAMA_VERSION" && return 0
  local inc; inc=$(ollama_headers)
  GOBIN="$IBO_BIN" CGO_ENABLED=1 CGO_CPPFLAGS="-I$inc" timed ollama go install "github.com/ollama/ollama@$OLLAMA_VERSION"
  stamp ollama "$OLLAMA_VERSION"
}

case "${1:-all}" in
  etcd) build_etcd ;; kube) build_kube ;; helm) build_helm ;; ollama) build_ollama ;;
  all) build_ollama; build_etcd; build_kube; build_helm ;;
  *) echo "usage: $0 [etcd|kube|helm|ollama|all]" >&2; exit 2 ;;
esac
