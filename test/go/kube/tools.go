//go:build tools

// Keeps the kube-apiserver, kube-controller-manager and kubectl packages in the wrapper module's graph, so that
// `go build k8s.io/kubernetes/cmd/...` resolves with the staging replaces applied.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver/app"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	_ "k8s.io/kubectl/pkg/cmd"
)
