#!/usr/bin/env bash
# Builds the sandbox's Go binaries from the Go module proxy and caches them outside the repo.
# Usage: build-go.sh [etcd|kube|kcm|helm|ollama|registry|all]
# Every binary lands in $IBO_CACHE/bin with a version stamp; a cached binary is never rebuilt.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

mkdir -p "$IBO_BIN" "$IBO_CACHE/build" "$IBO_CACHE/logs" "$IBO_CACHE/locks"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

stamp_ok() { [ -x "$IBO_BIN/$1" ] && [ "$(cat "$IBO_BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" >"$IBO_BIN/.$1.version"; }
timed() { # name, command...: runs, logs peak RSS and wall time
  local name=$1; shift
  local start=$SECONDS
  /usr/bin/time -f "%M" -o "$IBO_CACHE/logs/$name.maxrss" "$@"
  echo "built $name in $((SECONDS - start)) s, peak RSS $(($(cat "$IBO_CACHE/logs/$name.maxrss") / 1024)) MiB" | tee "$IBO_CACHE/logs/$name.build"
}
# Two sandboxes (or a CI job and a developer) may build at once: one lock per binary makes the second wait
# and then find the stamp, instead of both writing the same build folder.
locked() { # lock name, command...
  local name=$1; shift
  (flock -n 9 || { echo "waiting for another build of $name (logs in $IBO_CACHE/logs)" >&2; flock 9; } && "$@") \
    9>"$IBO_CACHE/locks/$name.lock"
}
# Binaries are linked next to their final place and renamed, so a reader never sees half a file.
install_bin() { mv -f "$IBO_BIN/.$1.partial" "$IBO_BIN/$1"; }

build_etcd() { stamp_ok etcd "$ETCD_VERSION" || locked etcd build_etcd_locked; }
build_etcd_locked() {
  stamp_ok etcd "$ETCD_VERSION" && return 0
  local d="$IBO_CACHE/build/etcd-$ETCD_VERSION"
  rm -rf "$d" && mkdir -p "$d" && cp "$here/../../go/etcd/main.go" "$d/" || return 1
  # Its own module, so etcd's dependency versions never meet Kubernetes' ones. Every step is chained with
  # && because `all` calls this under `||`, where bash ignores set -e.
  (cd "$d" && printf 'module ibo.local/etcd\n\ngo 1.24\n' >go.mod &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go mod tidy &&
    timed etcd go build -trimpath -o "$IBO_BIN/.etcd.partial" .) &&
    install_bin etcd && stamp etcd "$ETCD_VERSION"
}

# k8s.io/kubernetes refuses `go install` because its go.mod replaces the staging modules (k8s.io/api, ...)
# with local folders. A wrapper module requires it and points each staging module at its published v0.X.Y.
kube_staging_modules() {
  local mod
  mod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | jq -r .GoMod)
  # The staging modules are exactly the k8s.io requires pinned at v0.0.0 in that tag's go.mod.
  awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" {print $1}' "$mod" | sort -u
}
# Release builds stamp the version into the binaries with -X; without it both report v0.0.0-master, which
# kubectl refuses to parse and helm compares against charts' kubeVersion. The suffix of the stamp makes
# binaries built before this was added rebuild (a relink: the compiled packages stay in the Go cache).
KUBE_STAMP="$KUBE_VERSION+ldflags"
kube_ldflags() {
  local minor pkg flags=""
  minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit= -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
  echo "$flags"
}
build_kube() {
  { stamp_ok kube-apiserver "$KUBE_STAMP" && stamp_ok kubectl "$KUBE_STAMP"; } || locked kube build_kube_locked
}
build_kube_locked() {
  stamp_ok kube-apiserver "$KUBE_STAMP" && stamp_ok kubectl "$KUBE_STAMP" && return 0
  local d="$IBO_CACHE/build/kube-$KUBE_VERSION" staging ldflags
  rm -rf "$d" && mkdir -p "$d" && cp "$here/../../go/kube/tools.go" "$d/" || return 1
  staging=$(kube_staging_modules) || return 1
  [ "$(echo "$staging" | wc -w)" -ge 20 ] || { echo "could not read staging modules of $KUBE_VERSION" >&2; return 1; }
  {
    printf 'module ibo.local/kube\n\ngo 1.24\n\nrequire k8s.io/kubernetes %s\n\n' "$KUBE_VERSION"
    for m in $staging; do printf 'replace %s => %s %s\n' "$m" "$m" "${KUBE_VERSION/v1./v0.}"; done
  } >"$d/go.mod"
  ldflags=$(kube_ldflags)
  (cd "$d" && go mod tidy &&
    timed kube-apiserver go build -trimpath -ldflags "$ldflags" -o "$IBO_BIN/.kube-apiserver.partial" \
      k8s.io/kubernetes/cmd/kube-apiserver &&
    timed kubectl go build -trimpath -ldflags "$ldflags" -o "$IBO_BIN/.kubectl.partial" k8s.io/kubernetes/cmd/kubectl) &&
    install_bin kube-apiserver && install_bin kubectl &&
    stamp kube-apiserver "$KUBE_STAMP" && stamp kubectl "$KUBE_STAMP"
}

# kube-controller-manager, for the garbage collector (ownerReferences) and namespace deletion. The same wrapper
# module as kube-apiserver (tools.go names it too) and the same lock, since build_kube_locked recreates that
# folder; its packages are mostly compiled already for the apiserver, so only its own controllers build.
build_kcm() { stamp_ok kube-controller-manager "$KUBE_STAMP" || locked kube build_kcm_locked; }
build_kcm_locked() {
  stamp_ok kube-controller-manager "$KUBE_STAMP" && return 0
  local d="$IBO_CACHE/build/kube-$KUBE_VERSION" ldflags
  [ -s "$d/go.mod" ] || build_kube_locked || return 1
  cp "$here/../../go/kube/tools.go" "$d/" || return 1
  ldflags=$(kube_ldflags)
  (cd "$d" && go mod tidy &&
    timed kube-controller-manager go build -trimpath -ldflags "$ldflags" \
      -o "$IBO_BIN/.kube-controller-manager.partial" k8s.io/kubernetes/cmd/kube-controller-manager) &&
    install_bin kube-controller-manager && stamp kube-controller-manager "$KUBE_STAMP"
}

build_helm() { stamp_ok helm "$HELM_VERSION" || locked helm build_helm_locked; }
build_helm_locked() {
  stamp_ok helm "$HELM_VERSION" && return 0
  local d="$IBO_CACHE/build/helm-$HELM_VERSION"
  rm -rf "$d" && mkdir -p "$d" || return 1
  # helm's go.mod has no replace directives, so `go install pkg@version` works; GOBIN is a private folder
  # so the binary reaches $IBO_BIN by rename only.
  GOBIN="$d" timed helm go install -trimpath "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" &&
    mv -f "$d/helm" "$IBO_BIN/helm" && stamp helm "$HELM_VERSION"
}

# The stamp names the wrapper's source too: a changed main.go is rebuilt once.
REGISTRY_STAMP="$REGISTRY_VERSION+$(sha256sum "$here/../../go/registry/main.go" | cut -c1-12)"
build_registry() { stamp_ok registry "$REGISTRY_STAMP" || locked registry build_registry_locked; }
build_registry_locked() {
  stamp_ok registry "$REGISTRY_STAMP" && return 0
  local d="$IBO_CACHE/build/registry-$REGISTRY_VERSION"
  rm -rf "$d" && mkdir -p "$d" && cp "$here/../../go/registry/main.go" "$d/" || return 1
  # A wrapper module like etcd's (test/go/registry/main.go says why not cmd/registry itself).
  (cd "$d" && printf 'module ibo.local/registry\n\ngo 1.25\n' >go.mod &&
    go get "github.com/google/go-containerregistry@$REGISTRY_VERSION" && go mod tidy &&
    timed registry go build -trimpath -o "$IBO_BIN/.registry.partial" .) &&
    install_bin registry && stamp registry "$REGISTRY_STAMP"
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
  # The stamp (versions.sh) names the build recipe too, so a cache built before it changed is rebuilt.
  stamp_ok ollama "$OLLAMA_STAMP" && return 0
  local inc tmp; inc=$(ollama_headers); tmp=$(mktemp -d)
  # Without -X the server reports version 0.0.0 on /api/version, which clients show to users.
  # ggml's CPU backend picks its SIMD kernels at compile time: without -march it gets baseline x86-64 and
  # decodes gemma3:270m at ~1 token/s instead of ~27 here. The binary is built on the machine that runs it
  # (the cache is per machine), so `native` is right. Minus AMX: on a CPU with AMX (Sapphire Rapids and
  # later) -march=native defines __AMX_INT8__, and ggml-cpu.cpp then calls ggml_backend_amx_buffer_type(),
  # whose amx/amx.cpp the Go module never compiles (that folder has no .go file), so the link fails.
  local march="-march=native -mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  GOBIN="$tmp" CGO_ENABLED=1 CGO_CPPFLAGS="-I$inc" CGO_CFLAGS="-O3 $march" CGO_CXXFLAGS="-O3 $march" \
    timed ollama go install \
    -ldflags "-X github.com/ollama/ollama/version.Version=${OLLAMA_VERSION#v}" "github.com/ollama/ollama@$OLLAMA_VERSION"
  mv -f "$tmp/ollama" "$IBO_BIN/ollama" && rmdir "$tmp"
  stamp ollama "$OLLAMA_STAMP"
}

case "${1:-all}" in
  etcd) build_etcd ;; kube) build_kube ;; kcm) build_kcm ;; helm) build_helm ;; ollama) build_ollama ;; registry) build_registry ;;
  # One failing binary must not keep the others from building; the exit code still reports it. Each runs in
  # its own bash: under `||` bash ignores set -e, and a failed build must never be stamped.
  all) rc=0; for b in ollama etcd kube kcm helm registry; do bash "$0" "$b" || rc=1; done; exit $rc ;;
  *) echo "usage: $0 [etcd|kube|kcm|helm|ollama|registry|all]" >&2; exit 2 ;;
esac
