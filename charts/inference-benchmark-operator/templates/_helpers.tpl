{{/*
Names. Kubernetes caps most names (and label values) at 63 characters, so every name is truncated and
loses a trailing "-" that truncation may leave.
*/}}
{{- define "ibo.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ibo.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A name for one part of the release: "<fullname>-<suffix>", still at most 63 characters. */}}
{{- define "ibo.componentName" -}}
{{- $suffix := .suffix -}}
{{- $base := include "ibo.fullname" .root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" -}}
{{- printf "%s-%s" $base $suffix -}}
{{- end -}}

{{/* The tunnel Services are "<release>-grafana" and "<release>-prometheus", as the README promises. */}}
{{- define "ibo.releaseServiceName" -}}
{{- $suffix := .suffix -}}
{{- $base := .root.Release.Name | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" -}}
{{- printf "%s-%s" $base $suffix -}}
{{- end -}}

{{- define "ibo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Standard labels (https://helm.sh/docs/chart_best_practices/labels/). */}}
{{- define "ibo.labels" -}}
helm.sh/chart: {{ include "ibo.chart" . }}
{{ include "ibo.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: inference-benchmark-operator
{{- end -}}

{{- define "ibo.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ibo.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ibo.operatorSelectorLabels" -}}
{{ include "ibo.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "ibo.tunnelSelectorLabels" -}}
{{ include "ibo.selectorLabels" . }}
app.kubernetes.io/component: tunnel
{{- end -}}

{{- define "ibo.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ibo.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ibo.tunnelServiceAccountName" -}}
{{- include "ibo.componentName" (dict "root" . "suffix" "tunnel") -}}
{{- end -}}

{{- define "ibo.leaseName" -}}
{{- default (include "ibo.componentName" (dict "root" . "suffix" "leader")) .Values.operator.leaderElection.leaseName -}}
{{- end -}}

{{- define "ibo.tunnelNamespace" -}}
{{- default .Release.Namespace .Values.tunnel.namespace -}}
{{- end -}}

{{- define "ibo.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
The rules the operator needs in every namespace it watches, shared by the ClusterRole (cluster-wide) and
the per-namespace Roles (rbac.watchNamespaces), so both modes grant exactly the same verbs.
*/}}
{{- define "ibo.operatorRules" -}}
# Watch the custom resources, and update metadata (finalizers) through the main resource.
- apiGroups: ["hpcbench.io"]
  resources: ["inferencebenchmarks", "slurmclusters"]
  verbs: ["get", "list", "watch", "update", "patch"]
# Status goes through the status subresource only.
- apiGroups: ["hpcbench.io"]
  resources: ["inferencebenchmarks/status", "slurmclusters/status"]
  verbs: ["get", "update", "patch"]
# Needed where the OwnerReferencesPermissionEnforcement admission plugin is on.
- apiGroups: ["hpcbench.io"]
  resources: ["inferencebenchmarks/finalizers", "slurmclusters/finalizers"]
  verbs: ["update"]
# SSH keys and Grafana admin passwords named by SlurmClusters; read one by one, never listed.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
# One results ConfigMap per run (summary, samples, environment, log tails), read by `kubectl hpcbench`.
# get/update replace an existing one. No delete: the garbage collector removes an owned one with its
# benchmark, and a retained one (spec.retainResults) is the user's. `get` also reads the ConfigMap a
# benchmark names in spec.workload.dataset. Never listed or watched. With rbac.watchNamespaces this rule is
# in each namespace's Role, so no ConfigMap elsewhere can be read.
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["create", "get", "update"]
{{- end -}}

{{- define "ibo.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}
