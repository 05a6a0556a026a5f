{{/* The chart's name, or nameOverride. */}}
{{- define "ondemand-eks.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object's name: fullnameOverride, else the release name when it
already holds the chart's name (release "ondemand-eks" gives ondemand-eks-webhook, as
deploy/kubernetes does), else <release>-<name>. Short enough for the longest suffix.
*/}}
{{- define "ondemand-eks.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := include "ondemand-eks.name" . }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "ondemand-eks.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The recommended labels, on every object. */}}
{{- define "ondemand-eks.labels" -}}
helm.sh/chart: {{ include "ondemand-eks.chart" . }}
app.kubernetes.io/name: {{ include "ondemand-eks.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ondemand-eks
{{- end }}

{{/* A route's labels: (dict "root" $ "component" "webhook"). */}}
{{- define "ondemand-eks.componentLabels" -}}
{{ include "ondemand-eks.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* What a route's selectors match: never version or chart, which change on upgrade. */}}
{{- define "ondemand-eks.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ondemand-eks.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "ondemand-eks.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The accounts. */}}
{{- define "ondemand-eks.schedulerAccount" -}}
{{- printf "%s-scheduler" (include "ondemand-eks.fullname" .) }}
{{- end }}
{{- define "ondemand-eks.sqsConsumerAccount" -}}
{{- printf "%s-sqs-consumer" (include "ondemand-eks.fullname" .) }}
{{- end }}
{{- define "ondemand-eks.controllerAccount" -}}
{{- printf "%s-controller" (include "ondemand-eks.fullname" .) }}
{{- end }}

{{/* The controller's Lease (--lease-name), which its Lease Role names. */}}
{{- define "ondemand-eks.leaseName" -}}
{{- printf "%s-controller" (include "ondemand-eks.fullname" .) }}
{{- end }}

{{/* The job namespaces, default first. */}}
{{- define "ondemand-eks.jobNamespaces" -}}
{{- list .Values.jobNamespaces.default .Values.jobNamespaces.privileged | toJson }}
{{- end }}

{{/*
The settings every route shares, as flags: the queues and the caps. (The namespaces and
the agent token Secret go in schedulerEnv.)
*/}}
{{- define "ondemand-eks.schedulerArgs" -}}
{{- range .Values.scheduler.queues }}
- --queue={{ . }}
{{- end }}
{{- with .Values.scheduler.maxInFlight }}
- --max-in-flight={{ . }}
{{- end }}
{{- with .Values.scheduler.maxInFlightTotal }}
- --max-in-flight-total={{ . }}
{{- end }}
{{- end }}

{{/* The variables every route shares; (dict "root" $ "route" .Values.webhook). */}}
{{- define "ondemand-eks.schedulerEnv" -}}
# Jobs go to the job namespace, where the Role allows them; never to this one, which
# holds the scheduler's own Secrets.
- name: ONDEMAND_EKS_NAMESPACE
  value: {{ .root.Values.jobNamespaces.default | quote }}
- name: ONDEMAND_EKS_PRIVILEGED_NAMESPACE
  value: {{ .root.Values.jobNamespaces.privileged | quote }}
# The one Secret the admission policy lets the Jobs read.
- name: ONDEMAND_EKS_AGENT_TOKEN_SECRET
  value: {{ .root.Values.scheduler.agentTokenSecret | quote }}
# Keep the V8 heap well inside the memory limit: garbage collection, not an OOM kill.
- name: NODE_OPTIONS
  value: {{ .route.nodeOptions | quote }}
{{- include "ondemand-eks.libraryEnv" .root }}
{{- with .route.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The pod-level settings every route's pods share. */}}
{{- define "ondemand-eks.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "ondemand-eks.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* Scheduling extras of a route's pods: (dict "root" $ "route" .Values.webhook). */}}
{{- define "ondemand-eks.podPlacement" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .route.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .route.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .route.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The pod library (library.*): the ConfigMap's name when the library is in one (the
chart's own, made from library.files, or library.configMap), else "".
*/}}
{{- define "ondemand-eks.libraryConfigMap" -}}
{{- $library := .Values.library }}
{{- $given := list }}
{{- if $library.files }}{{ $given = append $given "files" }}{{ end }}
{{- if $library.configMap }}{{ $given = append $given "configMap" }}{{ end }}
{{- if $library.s3 }}{{ $given = append $given "s3" }}{{ end }}
{{- if gt (len $given) 1 }}
{{- fail (printf "library: give one of files, configMap and s3, not %s" (join " and " $given)) }}
{{- end }}
{{- if $library.files }}{{ include "ondemand-eks.fullname" . }}-pod-library{{ else if $library.configMap }}{{ $library.configMap }}{{ end }}
{{- end }}

{{/* Where a mounted library is read from. */}}
{{- define "ondemand-eks.libraryPath" -}}
/etc/ondemand-eks/pods
{{- end }}

{{/* The library's variables, for every route's env. */}}
{{- define "ondemand-eks.libraryEnv" -}}
{{- if include "ondemand-eks.libraryConfigMap" . }}
- name: ONDEMAND_EKS_LIBRARY
  value: {{ include "ondemand-eks.libraryPath" . | quote }}
{{- else if .Values.library.s3 }}
- name: ONDEMAND_EKS_LIBRARY
  value: {{ .Values.library.s3 | quote }}
- name: ONDEMAND_EKS_LIBRARY_TTL_SECONDS
  value: {{ .Values.library.ttlSeconds | quote }}
{{- end }}
{{- end }}

{{/* The library's volume and mount, when it is in a ConfigMap. */}}
{{- define "ondemand-eks.libraryVolume" -}}
{{- with include "ondemand-eks.libraryConfigMap" . }}
- name: pod-library
  configMap:
    name: {{ . }}
{{- end }}
{{- end }}

{{- define "ondemand-eks.libraryMount" -}}
{{- if include "ondemand-eks.libraryConfigMap" . }}
# Read-only, as the root filesystem is: the process never writes its library.
- name: pod-library
  mountPath: {{ include "ondemand-eks.libraryPath" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/*
A route's pod annotations: its own (route.podAnnotations) and, with library.files, a
checksum of the library, so a changed definition rolls the pods (a process reads its
library once, at start), and the route's own `extra`.
(dict "root" $ "route" .Values.webhook "extra" (dict ...))
*/}}
{{- define "ondemand-eks.podAnnotations" -}}
{{- $annotations := merge (deepCopy (.extra | default dict)) (deepCopy (.route.podAnnotations | default dict)) }}
{{- with .root.Values.library.files }}
{{- $_ := set $annotations "ondemand-eks.io/pod-library-checksum" (toYaml . | sha256sum) }}
{{- end }}
{{- with $annotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The pod's /tmp: the root filesystem is read-only. */}}
{{- define "ondemand-eks.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 16Mi
{{- end }}

{{/* The ops port's ingress rule: from the monitoring namespaces only. */}}
{{- define "ondemand-eks.monitoringIngress" -}}
- from:
    - namespaceSelector:
        matchLabels:
          {{- toYaml .root.Values.networkPolicy.monitoringNamespaceSelector | nindent 10 }}
  ports:
    - port: {{ .port }}
      protocol: TCP
{{- end }}
