{{- define "biblio.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "biblio.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "biblio.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The shared secrets are checked here, once, so every manifest that uses them fails alike. */}}
{{- define "biblio.secretName" -}}
{{- $_ := required "secrets.payloadKey is required (BIBLIO_PAYLOAD_KEY, the same on every pod: openssl rand -base64 32)" .Values.secrets.payloadKey -}}
{{- $_ := required "secrets.sourceUrlKey is required (BIBLIO_SOURCE_URL_KEY, the same on every pod: openssl rand -base64 32)" .Values.secrets.sourceUrlKey -}}
{{- $_ := required "secrets.databaseUrl is required (DATABASE_URL of the main PostgreSQL)" .Values.secrets.databaseUrl -}}
{{- include "biblio.fullname" . }}-shared
{{- end -}}

{{/* Environment of every container: the shared ConfigMap and Secret, Temporal Cloud credentials. */}}
{{- define "biblio.envFrom" -}}
- configMapRef:
    name: {{ include "biblio.fullname" . }}-shared
- secretRef:
    name: {{ include "biblio.secretName" . }}
{{- end -}}

{{- define "biblio.temporalEnv" -}}
{{- with .Values.temporal.apiKeySecret.name }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.temporal.apiKeySecret.key }}
{{- end }}
{{- if .Values.temporal.tls.enabled }}
- name: TEMPORAL_TLS
  value: "true"
{{- with .Values.temporal.tls.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- if .Values.temporal.tls.clientCertSecret }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: /etc/temporal-tls/tls.crt
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: /etc/temporal-tls/tls.key
{{- end }}
{{- end }}
{{- end -}}

{{- define "biblio.volumeMounts" -}}
- name: scratch
  mountPath: /data
{{- if and .Values.temporal.tls.enabled .Values.temporal.tls.clientCertSecret }}
- name: temporal-tls
  mountPath: /etc/temporal-tls
  readOnly: true
{{- end }}
{{- end -}}

{{/* $ = root context, sizeLimit = the pod's scratch limit */}}
{{- define "biblio.volumes" -}}
- name: scratch
  emptyDir:
    sizeLimit: {{ .sizeLimit }}
{{- if and .root.Values.temporal.tls.enabled .root.Values.temporal.tls.clientCertSecret }}
- name: temporal-tls
  secret:
    secretName: {{ .root.Values.temporal.tls.clientCertSecret }}
{{- end }}
{{- end -}}

{{/* Probes on a health server: liveness /healthz, readiness /readyz (dependencies answer). */}}
{{- define "biblio.probes" -}}
startupProbe:
  httpGet: { path: /healthz, port: {{ . }} }
  periodSeconds: 5
  failureThreshold: 60
# The API's /healthz also reports the lag it measures, bounded by Temporal deadlines of a few
# seconds: a generous timeout keeps a Temporal outage from restarting healthy pods.
livenessProbe:
  httpGet: { path: /healthz, port: {{ . }} }
  periodSeconds: 15
  timeoutSeconds: 10
  failureThreshold: 4
readinessProbe:
  httpGet: { path: /readyz, port: {{ . }} }
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
{{- end -}}
