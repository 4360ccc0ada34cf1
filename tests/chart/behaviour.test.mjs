// What the rendered chart does, checked on helm template's output: probes, shard ownership, the
// shutdown budget, spreading, disruption budget, autoscaler, services, network policy, secrets,
// security, and the values the schema and the chart's own checks refuse.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chart, find, fullname, helms, one, parseObjects, render, renderStatus, required, run, scenarios, selects } from "./lib.mjs";

const rendered = {};
for (const s of scenarios) {
  const r = render({ files: [s.file] });
  if (r.status !== 0) throw new Error(`${s.name}: ${r.stderr}`);
  rendered[s.name] = r.objects;
}
const sts = (name) => one(rendered[name], "StatefulSet", fullname);
const podSpec = (name) => sts(name).spec.template.spec;
const walletd = (name) => podSpec(name).containers.find((c) => c.name === "walletd");
const configOf = (name) => JSON.parse(one(rendered[name], "ConfigMap", fullname).data["walletd.json"]);

test("probes: startup and liveness on /health/live, readiness on /health/ready, on the HTTP port", () => {
  for (const name of Object.keys(rendered)) {
    const c = walletd(name);
    const httpPort = c.ports.find((p) => p.name === "http");
    assert.equal(httpPort.containerPort, configOf(name).http.port, name);
    assert.equal(c.startupProbe.httpGet.path, "/health/live", name);
    assert.equal(c.livenessProbe.httpGet.path, "/health/live", name);
    assert.equal(c.readinessProbe.httpGet.path, "/health/ready", name);
    const tls = name === "tls";
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
      assert.equal(probe.httpGet.port, "http", name);
      assert.equal(probe.httpGet.scheme, tls ? "HTTPS" : "HTTP", name);
    }
    assert.equal(c.ports.find((p) => p.name === "metrics").containerPort, configOf(name).metrics.port);
    assert.equal(configOf(name).http.listen_address, "0.0.0.0", "walletd must listen beyond loopback");
  }
});

test("shard ownership: the pod index becomes instance.index, replicas become instance.count", () => {
  for (const name of Object.keys(rendered)) {
    const env = walletd(name).env;
    assert.deepEqual(env, [
      {
        name: "WALLETD_INSTANCE__INDEX",
        valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
      },
    ]);
    const cfg = configOf(name);
    const annotations = sts(name).metadata.annotations;
    assert.equal(String(cfg.instance.count), annotations["wallet-engine/instance-count"]);
    assert.equal(String(cfg.runtime.shards), annotations["wallet-engine/shards"]);
    assert.ok(cfg.instance.count <= cfg.runtime.shards);
    if (name !== "autoscaling") assert.equal(sts(name).spec.replicas, cfg.instance.count, name);
    assert.equal(cfg.nats.partitioned, true);
    assert.equal(sts(name).spec.podManagementPolicy, "Parallel");
    assert.equal(sts(name).spec.updateStrategy.type, "RollingUpdate");
    assert.equal(sts(name).spec.updateStrategy.rollingUpdate.partition, 0, "an upgrade updates every pod");
    assert.equal(podSpec(name).enableServiceLinks, false, "service links inject WALLETD_* variables");
  }
  assert.equal(configOf("replicas").instance.count, 4);
  assert.equal(configOf("replicas").runtime.shards, 64);
  assert.equal(sts("replicas").spec.replicas, 4);
});

test("shutdown: terminationGracePeriodSeconds covers the preStop pause and walletd's grace period", () => {
  for (const name of Object.keys(rendered)) {
    const c = walletd(name);
    const [sleep, seconds] = c.lifecycle.preStop.exec.command;
    assert.equal(sleep, "/bin/sleep");
    const graceMs = configOf(name).shutdown.grace_period_ms;
    const budget = podSpec(name).terminationGracePeriodSeconds;
    assert.ok(Number(seconds) > 0);
    assert.ok(budget * 1000 > Number(seconds) * 1000 + graceMs, `${name}: ${budget}s <= ${seconds}s + ${graceMs}ms`);
  }
  const r = render({ set: ["shutdown.gracePeriodSeconds=120", "shutdown.preStopSleepSeconds=10"] });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(one(r.objects, "ConfigMap", fullname).data["walletd.json"]).shutdown.grace_period_ms, 120000);
  assert.ok(one(r.objects, "StatefulSet").spec.template.spec.terminationGracePeriodSeconds > 130);
});

test("spreading: zone and node constraints select walletd's pods", () => {
  for (const name of Object.keys(rendered)) {
    const spread = podSpec(name).topologySpreadConstraints;
    if (name === "no-monitoring") {
      assert.equal(spread, undefined, "topologySpread.enabled=false renders none");
      continue;
    }
    assert.deepEqual(spread.map((c) => c.topologyKey).sort(), ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]);
    for (const c of spread) assert.ok(selects(c.labelSelector, sts(name).spec.template.metadata.labels));
  }
  const zone = podSpec("replicas").topologySpreadConstraints.find((c) => c.topologyKey.includes("zone"));
  assert.equal(zone.whenUnsatisfiable, "DoNotSchedule");
});

test("the PodDisruptionBudget covers exactly walletd's pods", () => {
  for (const name of Object.keys(rendered)) {
    const pdbs = find(rendered[name], "PodDisruptionBudget");
    if (name === "no-monitoring") {
      assert.equal(pdbs.length, 0);
      continue;
    }
    assert.equal(pdbs.length, 1);
    assert.ok(selects(pdbs[0].spec.selector, sts(name).spec.template.metadata.labels));
    assert.equal(pdbs[0].spec.maxUnavailable, 1);
    for (const cron of find(rendered[name], "CronJob")) {
      assert.ok(!selects(pdbs[0].spec.selector, cron.spec.jobTemplate.spec.template.metadata.labels));
    }
  }
});

test("the HorizontalPodAutoscaler is off by default and targets the StatefulSet when on", () => {
  for (const name of Object.keys(rendered)) {
    const hpas = find(rendered[name], "HorizontalPodAutoscaler");
    if (name !== "autoscaling") {
      assert.equal(hpas.length, 0, name);
      continue;
    }
    assert.equal(hpas.length, 1);
    assert.deepEqual(hpas[0].spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "StatefulSet", name: fullname });
    assert.equal(sts(name).spec.replicas, undefined, "the autoscaler owns replicas");
    assert.equal(hpas[0].spec.maxReplicas, 4);
  }
  const r = render({ set: ["autoscaling.enabled=true"] });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /acknowledgeShardMoves/);
});

test("services: headless for the StatefulSet, HTTP and metrics select walletd; the ServiceMonitor finds metrics", () => {
  for (const name of Object.keys(rendered)) {
    const objs = rendered[name];
    const podLabels = sts(name).spec.template.metadata.labels;
    const headless = one(objs, "Service", `${fullname}-headless`);
    assert.equal(headless.spec.clusterIP, "None");
    assert.equal(sts(name).spec.serviceName, headless.metadata.name);
    const http = one(objs, "Service", fullname);
    const metrics = one(objs, "Service", `${fullname}-metrics`);
    for (const svc of [headless, http, metrics]) assert.ok(selects(svc.spec.selector, podLabels), svc.metadata.name);
    assert.equal(http.spec.ports[0].targetPort, "http");
    assert.equal(metrics.spec.ports[0].targetPort, "metrics");
    for (const sm of find(objs, "ServiceMonitor")) {
      assert.ok(selects(sm.spec.selector, metrics.metadata.labels));
      assert.ok(!selects(sm.spec.selector, http.metadata.labels), "the ServiceMonitor would scrape the API");
      assert.ok(!selects(sm.spec.selector, headless.metadata.labels), "each pod would be scraped twice");
      assert.equal(sm.spec.endpoints[0].port, metrics.spec.ports[0].name);
      assert.equal(sm.spec.endpoints[0].path, "/metrics");
    }
  }
  for (const kind of ["ServiceMonitor", "PrometheusRule"]) {
    assert.equal(find(rendered["no-monitoring"], kind).length, 0, kind);
  }
  assert.equal(find(rendered["no-monitoring"], "ConfigMap").length, 1, "no dashboard ConfigMap");
});

test("the NetworkPolicy admits HTTP and scrapes only, and lets walletd reach DNS, PostgreSQL and NATS", () => {
  for (const name of ["default", "replicas", "tls"]) {
    const np = one(rendered[name], "NetworkPolicy", fullname);
    assert.ok(selects(np.spec.podSelector, sts(name).spec.template.metadata.labels));
    assert.deepEqual(np.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(np.spec.ingress.map((r) => r.ports[0].port), ["http", "metrics"]);
    const egressPorts = np.spec.egress.flatMap((r) => r.ports.map((p) => p.port));
    assert.deepEqual(egressPorts, [53, 53, 5432, 4222]);
  }
  const np = one(rendered.replicas, "NetworkPolicy", fullname);
  assert.deepEqual(np.spec.egress[1].to, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "db" } } }]);
  assert.deepEqual(np.spec.egress[2].to, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "nats" } } }]);
  assert.equal(find(rendered["no-monitoring"], "NetworkPolicy").length, 0);
});

test("security: non-root, read-only root filesystem, no capabilities, no service account token", () => {
  for (const name of Object.keys(rendered)) {
    const pods = [podSpec(name), ...find(rendered[name], "CronJob").map((c) => c.spec.jobTemplate.spec.template.spec)];
    for (const pod of pods) {
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.ok(pod.securityContext.runAsUser > 0);
      assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
      assert.equal(pod.automountServiceAccountToken, false);
      for (const c of pod.containers) {
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
        assert.ok(c.resources.limits.memory, "a memory limit");
        assert.ok(c.resources.requests.cpu && c.resources.requests.memory);
      }
    }
  }
});

test("secrets are referenced by name only: no Secret object, no secret value, paths in the configuration", () => {
  for (const name of Object.keys(rendered)) {
    assert.equal(find(rendered[name], "Secret").length, 0, name);
    const text = JSON.stringify(rendered[name]);
    assert.doesNotMatch(text, /password=|:\/\/[^/@"]*:[^/@"]*@/i, `${name} renders a credential`);
  }
  const cfg = configOf("tls");
  assert.equal(cfg.postgres.password_file, "/etc/walletd/secrets/postgres/password");
  assert.equal(cfg.nats.credentials_file, "/etc/walletd/secrets/nats/nats.creds");
  assert.match(cfg.postgres.url, /[?&]sslrootcert=\/etc\/walletd\/secrets\/postgres-ca\/ca\.crt$/);
  assert.equal(cfg.http.tls_cert_file, "/etc/walletd/secrets/http-tls/tls.crt");
  assert.equal(cfg.http.tls_key_file, "/etc/walletd/secrets/http-tls/tls.key");
  assert.equal(configOf("default").http.tls_cert_file, undefined, "plain HTTP by default");
  const volumes = Object.fromEntries(podSpec("tls").volumes.filter((v) => v.secret).map((v) => [v.name, v.secret.secretName]));
  assert.deepEqual(volumes, {
    "postgres-password": "wallet-postgres",
    "postgres-ca": "wallet-postgres-ca",
    "nats-credentials": "wallet-nats",
    "http-tls": "wallet-http-tls",
    jwks: "wallet-jwks",
  });
  for (const m of walletd("tls").volumeMounts) {
    if (m.mountPath.startsWith("/etc/walletd")) assert.equal(m.readOnly, true, m.name);
  }
  assert.equal(configOf("default").postgres.password_file, undefined, "no Secret named: no password file");
});

test("walletd verifies bearer tokens with the issuer, audience and keys the values name", () => {
  assert.deepEqual(configOf("default").auth, {
    mode: "jwt",
    issuer: "https://login.example.com/",
    audience: "wallet-engine",
    jwks_url: "https://login.example.com/.well-known/jwks.json",
  });
  const tls = configOf("tls").auth;
  assert.equal(tls.jwks_file, "/etc/walletd/secrets/jwks/jwks.json", "the mounted Secret's file");
  assert.equal(tls.jwks_url, undefined);
  const mount = walletd("tls").volumeMounts.find((m) => m.name === "jwks");
  assert.ok(tls.jwks_file.startsWith(`${mount.mountPath}/`), "jwks_file lies in the Secret's mount");
  // Without them the chart refuses to render: a walletd that cannot authenticate would crash-loop.
  const bare = render({ bare: true });
  assert.notEqual(bare.status, 0, "rendered without auth.issuer");
  assert.match(bare.stderr, /auth.issuer and auth.audience are required/);
  // Development only: no authentication, and then no issuer is needed.
  const off = render({ bare: true, set: ["auth.mode=off"] });
  assert.equal(off.status, 0, off.stderr);
  assert.deepEqual(JSON.parse(one(off.objects, "ConfigMap", fullname).data["walletd.json"]).auth, { mode: "off" });
});

test("names stay within Kubernetes' limits for a long release name", () => {
  const r = run(helms.helm4, ["template", "a-very-long-release-name-for-payments-production-eu", chart, "--namespace", "payments", "--values", required]);
  assert.equal(r.status, 0, r.stderr);
  const limits = { CronJob: 52, StatefulSet: 52, Service: 63 };
  for (const o of parseObjects(r.stdout)) {
    assert.ok(o.metadata.name.length <= (limits[o.kind] ?? 253), `${o.kind} ${o.metadata.name} is too long`);
    for (const [k, v] of Object.entries(o.metadata.labels ?? {})) assert.ok(String(v).length <= 63, `${o.kind} label ${k}`);
  }
});

test("a changed configuration rolls the pods (checksum annotation)", () => {
  const a = render({});
  const b = render({ set: ["config.log.level=debug"] });
  const sum = (r) => one(r.objects, "StatefulSet").spec.template.metadata.annotations["checksum/config"];
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.match(sum(a), /^[0-9a-f]{64}$/);
  assert.notEqual(sum(a), sum(b));
  assert.equal(JSON.parse(one(b.objects, "ConfigMap", fullname).data["walletd.json"]).log.level, "debug");
});

// Values that must be refused, and a piece of the reason helm must give.
const refused = [
  [["replicas=0"], /replicas/],
  [["replicas=5000"], /replicas/],
  [["replicas=20"], /replicas \(20\) must be <= shards \(16\)/],
  [["shards=0"], /shards/],
  [["replicas=2", "nats.partitioned=false"], /nats.partitioned must be true/],
  [["postgres.url=postgresql://wallet:hunter2@db/wallet"], /postgres\/url|postgres.url/],
  [["postgres.url=postgresql://db/wallet?password=hunter2"], /postgres\/url|postgres.url/],
  [["postgres.url=mysql://db/wallet"], /postgres\/url|postgres.url/],
  [["postgres.password=hunter2"], /password/],
  [["postgres.sslmode=maybe"], /sslmode/],
  [["postgres.sslmode=verify-full"], /caSecret/],
  [["nats.url=nats://walletd:hunter2@nats:4222"], /nats\/url|nats.url/],
  [["nats.streamReplicas=7"], /streamReplicas/],
  [["postgres.passwordSecret.name=Not_A_Name"], /passwordSecret/],
  [["http.port=70000"], /port/],
  [["metrics.port=8080"], /http.port and metrics.port must differ/],
  [["http.tls.enabled=true"], /http.tls.secretName/],
  [["securityContext.runAsUser=0"], /runAsUser/],
  [["shutdown.gracePeriodSeconds=0"], /gracePeriodSeconds/],
  [["resources.limits=null"], /limits|resources/],
  [["config.instance.count=3"], /config.instance.count is set by the chart/],
  [["config.store=5"], /config/],
  [["config.Store.x=1"], /Store/],
  [["image.digest=sha256:nothex"], /digest/],
  [["topologySpread.zone.whenUnsatisfiable=Sometimes"], /whenUnsatisfiable/],
  [["autoscaling.enabled=true", "autoscaling.acknowledgeShardMoves=true", "autoscaling.maxReplicas=32"], /maxReplicas \(32\) must be <= shards/],
  [["monitoring.prometheusRule.errorRatio=0"], /errorRatio/],
  [["reconcile.schedule=daily"], /schedule/],
  [["rollingUpdatePartition=1"], /rollingUpdatePartition \(1\) must be < replicas/],
  [["rollingUpdatePartition=-1"], /rollingUpdatePartition/],
  [["monitoring.serviceMonitor.scrapeTimeout=20s"], /scrapeTimeout \(20s\) must not exceed its interval \(15s\)/],
  [["monitoring.serviceMonitor.interval=15 s"], /interval/],
  [["unknownKey=1"], /unknownKey/],
  [["auth.issuer="], /auth.issuer and auth.audience are required/],
  [["auth.audience="], /auth.issuer and auth.audience are required/],
  [["auth.jwksUrl="], /exactly one of auth.jwksUrl .* and auth.jwksSecret.name/],
  [["auth.jwksSecret.name=wallet-jwks"], /exactly one of auth.jwksUrl/],
  [["auth.jwksUrl=ftp://keys"], /jwksUrl/],
  [["auth.mode=basic"], /mode/],
  [["config.auth.issuer=someone"], /config.auth.issuer is set by the chart/],
];

test("bad values are refused with a reason", async () => {
  // Two helm processes at a time (the machine has two cores).
  const results = [];
  for (let i = 0; i < refused.length; i += 2) {
    results.push(...(await Promise.all(refused.slice(i, i + 2).map(([set]) => renderStatus({ set })))));
  }
  for (const [i, [set, reason]] of refused.entries()) {
    const r = results[i];
    assert.notEqual(r.status, 0, `accepted: --set ${set.join(" --set ")}`);
    assert.match(r.stderr, reason, `--set ${set.join(" --set ")}`);
  }
});

// The resize guard runs on `helm upgrade` against the live cluster (lookup), which helm template
// cannot reach. So the guard's named template is exercised directly: a throwaway chart holding
// the chart's own _helpers.tpl calls it with StatefulSet and Pod objects as lookup returns them.
test("the resize guard refuses a new instance count while walletd pods run", () => {
  const dir = mkdtempSync(join(tmpdir(), "wallet-guard-"));
  mkdirSync(join(dir, "templates"));
  writeFileSync(join(dir, "Chart.yaml"), "apiVersion: v2\nname: guard\nversion: 0.0.1\n");
  copyFileSync(join(chart, "templates/_helpers.tpl"), join(dir, "templates/_helpers.tpl"));
  writeFileSync(
    join(dir, "templates/guard.yaml"),
    `{{- include "wallet-engine.resizeGuard" (dict "live" .Values.live "pods" .Values.pods "selector" .Values.selector "replicas" (int .Values.replicas) "shards" (int .Values.shards) "autoscaling" false) -}}
apiVersion: v1
kind: ConfigMap
metadata: {name: passed}
`,
  );
  const selector = { "app.kubernetes.io/name": "wallet-engine", "app.kubernetes.io/instance": "prod", "app.kubernetes.io/component": "walletd" };
  const live = (count, replicas, shards = 16) => ({
    metadata: { name: fullname, annotations: { "wallet-engine/instance-count": String(count), "wallet-engine/shards": String(shards) } },
    spec: { replicas },
  });
  const pod = (name, labels) => ({ metadata: { name, labels } });
  const guard = (values) => {
    const file = join(dir, `values-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ selector, shards: 16, ...values }));
    return render({ chartDir: dir, files: [file] });
  };
  const passes = (values) => {
    const r = guard(values);
    assert.equal(r.status, 0, `refused ${JSON.stringify(values)}: ${r.stderr}`);
  };
  const refuses = (values, reason) => {
    const r = guard(values);
    assert.notEqual(r.status, 0, `accepted ${JSON.stringify(values)}`);
    assert.match(r.stderr, reason);
  };

  passes({ live: {}, pods: {}, replicas: 3 }); // first install, or helm template
  passes({ live: live(3, 3), pods: { items: [pod("prod-wallet-engine-0", selector)] }, replicas: 3 }); // upgrade, same count
  refuses({ live: live(3, 3), pods: { items: [pod("prod-wallet-engine-0", selector)] }, replicas: 4 }, /replicas changes from 3 to 4 while walletd runs .*Scale to 0 first/);
  refuses({ live: live(3, 0), pods: { items: [pod("prod-wallet-engine-2", selector)] }, replicas: 4 }, /pods: prod-wallet-engine-2/); // still terminating
  passes({ live: live(3, 0), pods: { items: [pod("other-0", { ...selector, "app.kubernetes.io/instance": "other" })] }, replicas: 4 }); // another release's pod
  passes({ live: live(3, 0), pods: { items: [] }, replicas: 4 }); // scaled to 0 and gone: the resize proceeds
  refuses({ live: live(3, 3, 16), pods: { items: [pod("prod-wallet-engine-0", selector)] }, replicas: 3, shards: 32 }, /shards changes from 16 to 32/);
});
