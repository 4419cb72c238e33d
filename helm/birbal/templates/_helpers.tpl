{{/* Names and labels shared by every object of the chart. */}}
{{- define "birbal.fullname" -}}
{{- printf "%s-birbal" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "birbal.labels" -}}
app.kubernetes.io/name: birbal
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "birbal.selector" -}}
app.kubernetes.io/name: birbal
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "birbal.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "birbal.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ .Values.serviceAccount.name | default (include "birbal.fullname" .) }}{{- else -}}{{ .Values.serviceAccount.name | default "default" }}{{- end -}}
{{- end -}}

{{/*
The settings every pod gets (web, worker, migration job): the servers from their Secrets (MongoDB when named), the app's secrets
as key-per-file, the blob store, GPU and the operator's own config. Pods never migrate: the job does.
*/}}
{{- define "birbal.env" -}}
- name: Database__ConnectionString
  valueFrom:
    secretKeyRef:
      name: {{ .Values.postgresql.existingSecret }}
      key: {{ .Values.postgresql.secretKey }}
- name: Database__MigrationLockTimeoutSeconds
  value: {{ .Values.postgresql.migrationLockTimeoutSeconds | quote }}
- name: Database__MigrateOnStart
  value: {{ not .Values.migrations.job | quote }}
- name: Redis__ConnectionString
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.secretKey }}
- name: Redis__KeyPrefix
  value: {{ .Values.redis.keyPrefix | quote }}
- name: RabbitMq__Uri
  valueFrom:
    secretKeyRef:
      name: {{ .Values.rabbitmq.existingSecret }}
      key: {{ .Values.rabbitmq.secretKey }}
- name: RabbitMq__Prefix
  value: {{ .Values.rabbitmq.prefix | quote }}
{{- if .Values.mongo.existingSecret }}
- name: Mongo__ConnectionString
  valueFrom:
    secretKeyRef:
      name: {{ .Values.mongo.existingSecret }}
      key: {{ .Values.mongo.secretKey }}
- name: Mongo__Database
  value: {{ .Values.mongo.database | quote }}
- name: Mongo__OrphanGraceMinutes
  value: {{ .Values.mongo.orphanGraceMinutes | quote }}
{{- end }}
- name: SecretsDirectory
  value: /run/secrets/birbal
- name: Blobs__Store
  value: {{ .Values.blobs.store | quote }}
{{- if eq .Values.blobs.store "disk" }}
- name: Blobs__Directory
  value: /var/lib/birbal/blobs
{{- end }}
- name: Blobs__CacheDirectory
  value: /var/cache/birbal/blobs
{{- if .Values.gpu.enabled }}
- name: Ml__Serving__ExecutionProvider
  value: Cuda
{{- end }}
{{- range $name, $value := .Values.config }}
{{- if $value }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The volumes every pod mounts: the root file system is read-only, so these are the only writable paths. */}}
{{- define "birbal.volumes" -}}
- name: secrets
  secret:
    secretName: {{ .Values.secrets.existingSecret }}
- name: blob-cache
  emptyDir:
    sizeLimit: {{ .Values.blobs.cacheSizeLimit }}
- name: tmp
  emptyDir: {}
{{- if eq .Values.blobs.store "disk" }}
- name: blobs
  persistentVolumeClaim:
    claimName: {{ required "blobs.existingClaim is required when blobs.store is disk" .Values.blobs.existingClaim }}
{{- end }}
{{- end -}}

{{- define "birbal.volumeMounts" -}}
- name: secrets
  mountPath: /run/secrets/birbal
  readOnly: true
- name: blob-cache
  mountPath: /var/cache/birbal/blobs
- name: tmp
  mountPath: /tmp
{{- if eq .Values.blobs.store "disk" }}
- name: blobs
  mountPath: /var/lib/birbal/blobs
{{- end }}
{{- end -}}

{{- define "birbal.securityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{- define "birbal.gpuLimits" -}}
{{- if .Values.gpu.enabled }}
{{ .Values.gpu.resourceName }}: {{ .Values.gpu.count }}
{{- end }}
{{- end -}}
