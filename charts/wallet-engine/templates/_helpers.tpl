{{/*
Names, labels and the walletd configuration the chart renders. Every other template takes its
names from here, so a Service, a selector and an alert can never disagree about them.
*/}}

{{- define "wallet-engine.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's base name: <release>-wallet-engine, or the release name when it already says it. */}}
{{- define "wallet-engine.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The reconciliation CronJob: CronJob names are limited to 52 characters (its Jobs add 11). */}}
{{- define "wallet-engine.reconcileName" -}}
{{- printf "%s-reconcile" (include "wallet-engine.fullname" . | trunc 42 | trimSuffix "-") -}}
{{- end -}}

{{- define "wallet-engine.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "wallet-engine.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wallet-engine.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wallet-engine.labels" -}}
helm.sh/chart: {{ include "wallet-engine.chart" . }}
{{ include "wallet-engine.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: wallet-engine
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* walletd's pods (the reconciliation job's pods have another component). */}}
{{- define "wallet-engine.walletdSelectorLabels" -}}
{{ include "wallet-engine.selectorLabels" . }}
app.kubernetes.io/component: walletd
{{- end -}}

{{- define "wallet-engine.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "wallet-engine.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "wallet-engine.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Prometheus job of walletd's metrics: the metrics Service's name (ServiceMonitor default). */}}
{{- define "wallet-engine.metricsJob" -}}
{{- printf "%s-metrics" (include "wallet-engine.fullname" .) -}}
{{- end -}}

{{/* The label matchers every alert and dashboard query uses to find this release's series. */}}
{{- define "wallet-engine.seriesSelector" -}}
namespace="{{ .Release.Namespace }}", job="{{ include "wallet-engine.metricsJob" . }}"
{{- end -}}

{{/* Where the chart mounts what it gives walletd. */}}
{{- define "wallet-engine.configDir" -}}/etc/walletd/config{{- end -}}
{{- define "wallet-engine.secretsDir" -}}/etc/walletd/secrets{{- end -}}

{{/* Seconds Kubernetes waits between SIGTERM and SIGKILL: the preStop pause, walletd's own grace
     period (shutdown.grace_period_ms), and a margin for the process to exit and flush its logs. */}}
{{- define "wallet-engine.terminationGracePeriodSeconds" -}}
{{- add .Values.shutdown.preStopSleepSeconds .Values.shutdown.gracePeriodSeconds .Values.shutdown.marginSeconds -}}
{{- end -}}

{{/*
The settings the chart owns: they follow from other values (replicas, ports, Secrets) and must not
be set again under .Values.config. Returned as a nested dict in the configuration file's shape.
*/}}
{{- define "wallet-engine.ownedConfig" -}}
{{- $v := .Values -}}
{{- $sec := include "wallet-engine.secretsDir" . -}}
{{- $pgurl := $v.postgres.url -}}
{{- if $v.postgres.caSecret.name -}}
{{- /* libpq reads the CA that verify-ca / verify-full check the server against from sslrootcert. */ -}}
{{- $pgurl = printf "%s%ssslrootcert=%s/postgres-ca/%s" $pgurl (ternary "&" "?" (contains "?" $pgurl)) $sec $v.postgres.caSecret.key -}}
{{- end -}}
{{- $postgres := dict "url" $pgurl "sslmode" $v.postgres.sslmode -}}
{{- if $v.postgres.passwordSecret.name -}}
{{- $_ := set $postgres "password_file" (printf "%s/postgres/%s" $sec $v.postgres.passwordSecret.key) -}}
{{- end -}}
{{- $nats := dict "url" $v.nats.url "partitioned" $v.nats.partitioned "replicas" $v.nats.streamReplicas -}}
{{- if $v.nats.credentialsSecret.name -}}
{{- $_ := set $nats "credentials_file" (printf "%s/nats/%s" $sec $v.nats.credentialsSecret.key) -}}
{{- end -}}
{{- $http := dict "listen_address" $v.http.listenAddress "port" (int $v.http.port) -}}
{{- if $v.http.tls.enabled -}}
{{- /* A kubernetes.io/tls Secret's keys; walletd then serves TLS 1.3 only. */ -}}
{{- $_ := set $http "tls_cert_file" (printf "%s/http-tls/tls.crt" $sec) -}}
{{- $_ := set $http "tls_key_file" (printf "%s/http-tls/tls.key" $sec) -}}
{{- end -}}
{{- $auth := dict "mode" $v.auth.mode -}}
{{- if eq $v.auth.mode "jwt" -}}
{{- $_ := set $auth "issuer" $v.auth.issuer -}}
{{- $_ := set $auth "audience" $v.auth.audience -}}
{{- if $v.auth.jwksSecret.name -}}
{{- $_ := set $auth "jwks_file" (printf "%s/jwks/%s" $sec $v.auth.jwksSecret.key) -}}
{{- else -}}
{{- $_ := set $auth "jwks_url" $v.auth.jwksUrl -}}
{{- end -}}
{{- end -}}
{{- $owned := dict
      "instance" (dict "count" (int $v.replicas))
      "runtime" (dict "shards" (int $v.shards))
      "http" $http
      "metrics" (dict "port" (int $v.metrics.port))
      "shutdown" (dict "grace_period_ms" (mul $v.shutdown.gracePeriodSeconds 1000))
      "postgres" $postgres
      "nats" $nats
      "auth" $auth -}}
{{- toJson $owned -}}
{{- end -}}

{{/* The whole configuration file: .Values.config with the chart's own settings laid over it. */}}
{{- define "wallet-engine.configFile" -}}
{{- $owned := include "wallet-engine.ownedConfig" . | fromJson -}}
{{- $user := deepCopy (default dict .Values.config) -}}
{{- range $section, $settings := $owned -}}
{{- $userSection := get $user $section -}}
{{- if $userSection -}}
{{- range $name, $_ := $settings -}}
{{- if hasKey $userSection $name -}}
{{- fail (printf "config.%s.%s is set by the chart (see values.yaml: replicas, shards, http, metrics, shutdown, postgres, nats, auth); remove it from config" $section $name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toPrettyJson (mustMergeOverwrite $user $owned) -}}
{{- end -}}

{{/*
The resize guard. walletd instances agree on instance.count; two instances with different counts
would both write some shards (docs/nats.md, "Moving shards"). So a new count (or shard count) is
accepted only when no walletd pod of the release runs: scale to 0 first (NOTES.txt).
Arguments: live (the StatefulSet from the cluster, or empty: `helm template`, first install),
pods (the namespace's Pod list, or empty), selector (walletd's pod labels), replicas, shards,
autoscaling. Fails with the procedure when the change is unsafe.
*/}}
{{- define "wallet-engine.resizeGuard" -}}
{{- $live := .live -}}
{{- if and $live (not .autoscaling) -}}
{{- $annotations := default dict $live.metadata.annotations -}}
{{- $oldCount := get $annotations "wallet-engine/instance-count" -}}
{{- $oldShards := get $annotations "wallet-engine/shards" -}}
{{- $countChanged := and $oldCount (ne $oldCount (toString .replicas)) -}}
{{- $shardsChanged := and $oldShards (ne $oldShards (toString .shards)) -}}
{{- if or $countChanged $shardsChanged -}}
{{- $running := list -}}
{{- $items := list -}}
{{- if .pods -}}{{- $items = default list .pods.items -}}{{- end -}}
{{- range $pod := $items -}}
{{- $labels := default dict $pod.metadata.labels -}}
{{- $match := true -}}
{{- range $k, $want := $.selector -}}
{{- if ne (get $labels $k) (toString $want) -}}{{- $match = false -}}{{- end -}}
{{- end -}}
{{- if $match -}}{{- $running = append $running $pod.metadata.name -}}{{- end -}}
{{- end -}}
{{- $liveReplicas := int (default 0 $live.spec.replicas) -}}
{{- if or (gt $liveReplicas 0) (gt (len $running) 0) -}}
{{- if $shardsChanged -}}
{{- fail (printf "shards changes from %s to %d: this re-hashes every wallet and needs the drained procedure of docs/operations/resize.md (\"Changing the shard count\"); %d walletd pod(s) still exist" $oldShards .shards (len $running)) -}}
{{- end -}}
{{- fail (printf "replicas changes from %s to %d while walletd runs (StatefulSet replicas %d, pods: %s). Instances with different counts would write the same shards. Scale to 0 first: kubectl scale statefulset/%s --replicas=0; wait until its pods are gone; then run this upgrade again (docs/operations/resize.md)" $oldCount .replicas $liveReplicas (join ", " $running) $live.metadata.name) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A duration of the values schema's form (15s, 500ms, 1m, 1h) in milliseconds. */}}
{{- define "wallet-engine.durationMs" -}}
{{- $d := toString . -}}
{{- if hasSuffix "ms" $d -}}{{- atoi (trimSuffix "ms" $d) -}}
{{- else if hasSuffix "s" $d -}}{{- mul (atoi (trimSuffix "s" $d)) 1000 -}}
{{- else if hasSuffix "m" $d -}}{{- mul (atoi (trimSuffix "m" $d)) 60000 -}}
{{- else if hasSuffix "h" $d -}}{{- mul (atoi (trimSuffix "h" $d)) 3600000 -}}
{{- else -}}{{- fail (printf "%s is not a duration like 15s" $d) -}}
{{- end -}}
{{- end -}}
