{{/* Name of the chart, or nameOverride. */}}
{{- define "segstore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Name of the release's objects: fullnameOverride, else the release name, with the chart name
appended unless the release name already contains it. At most 63 characters (a DNS label).
*/}}
{{- define "segstore.fullname" -}}
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

{{/* Labels that select the pods; never change them after an install (they are immutable). */}}
{{- define "segstore.selectorLabels" -}}
app.kubernetes.io/name: {{ include "segstore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "segstore.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "segstore.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: segstore
{{- end -}}

{{/* The ServiceAccount the pods run as. */}}
{{- define "segstore.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "segstore.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Name of the Secret that holds the tokens file, or "" when no tokens are configured. */}}
{{- define "segstore.tokensSecret" -}}
{{- if .Values.tokens.existingSecret -}}
{{- .Values.tokens.existingSecret -}}
{{- else if .Values.tokens.entries -}}
{{- printf "%s-tokens" (include "segstore.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The tokens file that the chart's Secret holds: the entries under a top-level "tokens" key. */}}
{{- define "segstore.tokensFile" -}}
{{- dict "tokens" .Values.tokens.entries | toYaml -}}
{{- end -}}

{{/* The container image reference: repository with the digest, else the tag (default appVersion). */}}
{{- define "segstore.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{/* Checks of the values that Kubernetes would not catch, or catch only when the pod misbehaves. */}}
{{- define "segstore.validate" -}}
{{- $grace := int .Values.terminationGracePeriodSeconds -}}
{{- $shutdown := int .Values.shutdown.timeoutSeconds -}}
{{- $preStop := int .Values.shutdown.preStopSleepSeconds -}}
{{- if le $grace (add $shutdown $preStop) -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be more than shutdown.preStopSleepSeconds + shutdown.timeoutSeconds (%d + %d): Kubernetes would kill Segstore in the middle of its graceful shutdown" $grace $preStop $shutdown) -}}
{{- end -}}
{{- if lt $shutdown 1 -}}
{{- fail "shutdown.timeoutSeconds must be at least 1" -}}
{{- end -}}
{{- if not (hasPrefix "/" .Values.persistence.mountPath) -}}
{{- fail "persistence.mountPath must be an absolute path" -}}
{{- end -}}
{{- if or (eq (clean .Values.persistence.mountPath) "/tmp") (eq (clean .Values.persistence.mountPath) (clean .Values.tokens.mountPath)) -}}
{{- fail "persistence.mountPath must differ from /tmp and from tokens.mountPath" -}}
{{- end -}}
{{- range $name, $store := .Values.s3.stores -}}
{{- if not (regexMatch "^[a-z0-9]+$" (toString $name)) -}}
{{- fail (printf "s3.stores: the store name %q must be lower-case letters and digits (it becomes part of environment variable names)" $name) -}}
{{- end -}}
{{- end -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.s3.stores) -}}
{{- fail "replicaCount above 1 needs s3.stores: each pod's volume holds its own repositories, only repositories in an object store are served by every pod" -}}
{{- end -}}
{{- range .Values.tokens.entries -}}
{{- if not (and .name .sha256 .grants) -}}
{{- fail "every tokens.entries item needs name, sha256 and grants" -}}
{{- end -}}
{{- if not (regexMatch "^[0-9a-fA-F]{64}$" (toString .sha256)) -}}
{{- fail (printf "tokens.entries %s: sha256 must be 64 hex digits (the SHA-256 of the token, not the token)" .name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
