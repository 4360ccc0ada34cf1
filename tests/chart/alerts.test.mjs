// The alerts: promtool checks the rendered PrometheusRule's rules and unit-tests each alert with
// synthetic series (it fires when it should, with its labels and annotations, and stays quiet
// otherwise); every alert links an existing runbook; the rules and the dashboard use only metrics
// that walletd exports (adapters/metrics/src/metrics.cpp) or that Kubernetes' exporters provide.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { chart, fullname, namespace, one, promtool, render, root, run, scenarios } from "./lib.mjs";

const replicasValues = scenarios.find((s) => s.name === "replicas").file;
const rendered = render({ files: [replicasValues] });
if (rendered.status !== 0) throw new Error(rendered.stderr);
const rule = one(rendered.objects, "PrometheusRule", fullname);
const alerts = rule.spec.groups.flatMap((g) => g.rules);
const alertByName = Object.fromEntries(alerts.map((a) => [a.alert, a]));
const runbookBase = "https://git.example.com/payments/wallet-engine/blob/main/docs/runbooks";
const dir = mkdtempSync(join(tmpdir(), "wallet-alerts-"));
const rulesFile = join(dir, "rules.yaml");
writeFileSync(rulesFile, stringify({ groups: rule.spec.groups }));

const required = [
  "WalletEngineErrorRatioHigh",
  "WalletEngineCommitLatencyHigh",
  "WalletEngineCircuitOpen",
  "WalletEngineDeadLetters",
  "WalletEngineRedeliveryRatioHigh",
  "WalletEngineReconciliationMismatch",
  "WalletEngineEventPublishLag",
  "WalletEngineAmlProviderDown",
  "WalletEngineAmlNoVerdict",
  "WalletEngineAuditWriteFailing",
];

test("promtool accepts the rules", () => {
  const r = run(promtool, ["check", "rules", rulesFile]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
});

test("the alerts the issue asks for exist, each with a severity and a runbook that exists", () => {
  for (const name of required) assert.ok(alertByName[name], `no alert ${name}`);
  for (const a of alerts) {
    assert.match(a.labels.severity, /^(critical|warning)$/, a.alert);
    assert.ok(a.annotations.summary && a.annotations.description, a.alert);
    assert.equal(a.annotations.runbook_url, `${runbookBase}/${a.alert}.md`);
    const runbook = join(root, "docs/runbooks", `${a.alert}.md`);
    assert.ok(existsSync(runbook), `missing runbook ${runbook}`);
    const text = readFileSync(runbook, "utf8");
    for (const section of ["## Symptom", "## Checks", "## Actions"]) assert.ok(text.includes(section), `${a.alert}.md lacks ${section}`);
    assert.ok(text.includes(a.alert), `${a.alert}.md does not name its alert`);
  }
});

// Metric names walletd registers (BuildCounter/Gauge/Histogram names in metrics.cpp, and the AML
// screening's own in screening_host.cpp).
const exported = new Set(
  ["adapters/metrics/src/metrics.cpp", "app/screening_host.cpp"].flatMap((f) =>
    [...readFileSync(join(root, f), "utf8").matchAll(/"(wallet_[a-z0-9_]+)"/g)].map((m) => m[1]),
  ),
);
function unknownMetrics(expr) {
  const names = [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[|\)|$|\s*[<>!=])/g)].map((m) => m[1]);
  return names.filter((n) => {
    if (!n.startsWith("wallet_") && !/^(kube_|container_|up$)/.test(n)) return false; // functions, keywords
    if (/^(kube_|container_)/.test(n) || n === "up") return false; // kube-state-metrics, cAdvisor, Prometheus
    return !exported.has(n) && !exported.has(n.replace(/_(bucket|sum|count)$/, ""));
  });
}

test("rules and dashboard use only metrics walletd exports", () => {
  assert.ok(exported.has("wallet_commands_total") && exported.size > 10, "metrics.cpp was not read");
  for (const a of alerts) assert.deepEqual(unknownMetrics(a.expr), [], a.alert);
  const dashboard = JSON.parse(readFileSync(join(chart, "files/dashboard.json"), "utf8"));
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  assert.ok(exprs.length > 10);
  for (const e of exprs) assert.deepEqual(unknownMetrics(e), [], e);
  assert.deepEqual(unknownMetrics("rate(wallet_no_such_total[5m])"), ["wallet_no_such_total"], "the check can fail");
});

test("every dashboard query is valid PromQL (promtool parses them as recording rules)", () => {
  const dashboard = JSON.parse(readFileSync(join(chart, "files/dashboard.json"), "utf8"));
  const targets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const rules = targets.map((expr, i) => ({
    record: `dashboard:query_${i}`,
    expr: expr.replaceAll("$__rate_interval", "5m").replaceAll("$namespace", namespace).replaceAll("$job", `${fullname}-metrics`),
  }));
  const file = join(dir, "dashboard-rules.yaml");
  writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules }] }));
  const r = run(promtool, ["check", "rules", file]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length, "panel ids are unique");
});

// ---- promtool unit tests: synthetic series in, alerts out --------------------------------------

const S = `namespace="${namespace}", job="${fullname}-metrics", pod="${fullname}-0"`;
const KSM = `namespace="${namespace}", job="kube-state-metrics"`;
const expected = (name, labels = {}) => ({
  exp_labels: { severity: alertByName[name].labels.severity, ...labels },
  exp_annotations: alertByName[name].annotations,
});

const cases = [
  {
    name: "error ratio: 10 % unavailable fires, 1 % does not",
    series: [
      [`wallet_commands_total{${S}, command="deposit", outcome="accepted"}`, "0+100x40"],
      [`wallet_commands_total{${S}, command="deposit", outcome="unavailable"}`, "0+10x40"],
      [`wallet_commands_total{${S}, command="withdraw", outcome="rejected"}`, "0+5x40"],
    ],
    alerts: [
      ["WalletEngineErrorRatioHigh", "8m", []],
      ["WalletEngineErrorRatioHigh", "25m", [expected("WalletEngineErrorRatioHigh")]],
    ],
  },
  {
    name: "error ratio: business rejections and shutting_down are not errors",
    series: [
      [`wallet_commands_total{${S}, command="deposit", outcome="accepted"}`, "0+100x40"],
      [`wallet_commands_total{${S}, command="withdraw", outcome="rejected"}`, "0+100x40"],
      [`wallet_commands_total{${S}, command="deposit", outcome="shutting_down"}`, "0+50x40"],
      [`wallet_commands_total{${S}, command="deposit", outcome="overloaded"}`, "0+1x40"],
    ],
    alerts: [["WalletEngineErrorRatioHigh", "25m", []]],
  },
  {
    name: "commit latency: half the batches above 0.25 s fires; all fast does not",
    series: [
      [`wallet_store_commit_seconds_bucket{${S}, le="0.01"}`, "0+100x40"],
      [`wallet_store_commit_seconds_bucket{${S}, le="0.25"}`, "0+100x40"],
      [`wallet_store_commit_seconds_bucket{${S}, le="0.5"}`, "0+200x40"],
      [`wallet_store_commit_seconds_bucket{${S}, le="+Inf"}`, "0+200x40"],
      [`wallet_store_commit_seconds_bucket{namespace="${namespace}", job="other-metrics", le="0.01"}`, "0+100x40"],
    ],
    alerts: [["WalletEngineCommitLatencyHigh", "25m", [expected("WalletEngineCommitLatencyHigh")]]],
  },
  {
    name: "commit latency: fast commits stay quiet",
    series: [
      [`wallet_store_commit_seconds_bucket{${S}, le="0.01"}`, "0+100x40"],
      [`wallet_store_commit_seconds_bucket{${S}, le="0.25"}`, "0+100x40"],
      [`wallet_store_commit_seconds_bucket{${S}, le="+Inf"}`, "0+100x40"],
    ],
    alerts: [["WalletEngineCommitLatencyHigh", "25m", []]],
  },
  {
    name: "circuit: open for a minute fires per pod; half-open does not",
    series: [
      [`wallet_circuit_state{${S}, shard="3"}`, "0 0 2 2 2 2 2 2 2 2"],
      [`wallet_circuit_state{namespace="${namespace}", job="${fullname}-metrics", pod="${fullname}-1", shard="4"}`, "0 1 1 1 1 1 1 1 1 1"],
    ],
    alerts: [
      ["WalletEngineCircuitOpen", "2m", []],
      ["WalletEngineCircuitOpen", "5m", [expected("WalletEngineCircuitOpen", { pod: `${fullname}-0` })]],
    ],
  },
  {
    name: "dead letters: one new dead letter fires with its reason, then clears",
    series: [
      [`wallet_nats_dead_letters_total{${S}, reason="deliveries_exceeded"}`, "0 0 0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"],
      [`wallet_nats_dead_letters_total{${S}, reason="malformed"}`, "0x30"],
    ],
    alerts: [
      ["WalletEngineDeadLetters", "2m", []],
      ["WalletEngineDeadLetters", "5m", [expected("WalletEngineDeadLetters", { reason: "deliveries_exceeded" })]],
      ["WalletEngineDeadLetters", "25m", []],
    ],
  },
  {
    name: "redeliveries: 10 % of deliveries for 15 minutes fires",
    series: [
      [`wallet_nats_redeliveries_total{${S}}`, "0+10x40"],
      [`wallet_nats_commands_total{${S}, outcome="accepted"}`, "0+100x40"],
    ],
    alerts: [
      ["WalletEngineRedeliveryRatioHigh", "12m", []],
      ["WalletEngineRedeliveryRatioHigh", "30m", [expected("WalletEngineRedeliveryRatioHigh")]],
    ],
  },
  {
    name: "publish lag: a failing publisher fires",
    series: [
      [`wallet_event_publish_failures_total{${S}, stage="publish"}`, "0+1x40"],
      [`wallet_commands_total{${S}, command="deposit", outcome="accepted"}`, "0+100x40"],
      [`wallet_events_published_total{${S}, shard="0"}`, "0+100x40"],
    ],
    alerts: [["WalletEngineEventPublishLag", "25m", [expected("WalletEngineEventPublishLag")]]],
  },
  {
    name: "publish lag: accepted commands and no events published fires; both moving does not",
    series: [
      [`wallet_commands_total{${S}, command="deposit", outcome="accepted"}`, "0+100x40"],
      [`wallet_events_published_total{${S}, shard="0"}`, "0x40"],
      [`wallet_event_publish_failures_total{${S}, stage="publish"}`, "0x40"],
    ],
    alerts: [["WalletEngineEventPublishLag", "25m", [expected("WalletEngineEventPublishLag")]]],
  },
  {
    name: "publish lag: a healthy publisher stays quiet",
    series: [
      [`wallet_commands_total{${S}, command="deposit", outcome="accepted"}`, "0+100x40"],
      [`wallet_events_published_total{${S}, shard="0"}`, "0+120x40"],
      [`wallet_event_publish_failures_total{${S}, stage="publish"}`, "0x40"],
    ],
    alerts: [["WalletEngineEventPublishLag", "25m", []]],
  },
  {
    name: "AML provider: its circuit open for 2 minutes fires per pod; half-open does not",
    series: [
      [`wallet_aml_circuit_state{${S}}`, "0 0 2 2 2 2 2 2 2 2"],
      [`wallet_aml_circuit_state{namespace="${namespace}", job="${fullname}-metrics", pod="${fullname}-1"}`, "0 1 1 1 1 1 1 1 1 1"],
    ],
    alerts: [
      ["WalletEngineAmlProviderDown", "3m", []],
      ["WalletEngineAmlProviderDown", "6m", [expected("WalletEngineAmlProviderDown", { pod: `${fullname}-0` })]],
    ],
  },
  {
    name: "AML: screenings without a verdict fire by outcome, then clear; verdicts stay quiet",
    series: [
      [`wallet_aml_screenings_total{${S}, provider="http", outcome="fail_closed"}`, "0 0 0 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3 3"],
      [`wallet_aml_screenings_total{${S}, provider="http", outcome="deny"}`, "0+5x30"],
      [`wallet_aml_screenings_total{${S}, provider="http", outcome="review"}`, "0+5x30"],
    ],
    alerts: [
      ["WalletEngineAmlNoVerdict", "2m", []],
      ["WalletEngineAmlNoVerdict", "5m", [expected("WalletEngineAmlNoVerdict", { outcome: "fail_closed" })]],
      ["WalletEngineAmlNoVerdict", "25m", []],
    ],
  },
  {
    name: "AML reviews: an expiry fires for an hour; decisions stay quiet",
    series: [
      [`wallet_aml_reviews_total{${S}, event="expired"}`, "0x10 1x200"],
      [`wallet_aml_reviews_total{${S}, event="approved"}`, "0+1x210"],
    ],
    alerts: [
      ["WalletEngineAmlReviewsExpiring", "5m", []],
      ["WalletEngineAmlReviewsExpiring", "30m", [expected("WalletEngineAmlReviewsExpiring")]],
      ["WalletEngineAmlReviewsExpiring", "3h", []],
    ],
  },
  {
    name: "audit: a failed write of walletd's own record fires, then clears",
    series: [[`wallet_audit_write_failures_total{${S}}`, "0 0 0 1 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2"]],
    alerts: [
      ["WalletEngineAuditWriteFailing", "2m", []],
      ["WalletEngineAuditWriteFailing", "5m", [expected("WalletEngineAuditWriteFailing")]],
      ["WalletEngineAuditWriteFailing", "25m", []],
    ],
  },
  {
    name: "instances: one not ready for 5 minutes fires; the StatefulSet scaled outside Helm fires",
    series: [
      [`kube_statefulset_status_replicas_ready{${KSM}, statefulset="${fullname}"}`, "4 3 3 3 3 3 3 3 3 3 3 3"],
      [`kube_statefulset_replicas{${KSM}, statefulset="${fullname}"}`, "4 4 4 4 4 4 4 4 4 3 3 3 3 3 3 3 3 3"],
    ],
    alerts: [
      ["WalletEngineInstanceDown", "4m", []],
      ["WalletEngineInstanceDown", "7m", [expected("WalletEngineInstanceDown", { namespace, job: "kube-state-metrics", statefulset: fullname })]],
      ["WalletEngineReplicasChanged", "8m", []],
      ["WalletEngineReplicasChanged", "15m", [expected("WalletEngineReplicasChanged", { namespace, job: "kube-state-metrics", statefulset: fullname })]],
    ],
  },
  {
    name: "reconciliation: a failed Job of this release fires; another release's does not",
    series: [
      [`kube_job_status_failed{${KSM}, job_name="${fullname}-reconcile-29400000"}`, "0 0 1 1 1 1"],
      [`kube_job_status_failed{${KSM}, job_name="other-wallet-engine-reconcile-29400000"}`, "1 1 1 1 1 1"],
    ],
    alerts: [
      ["WalletEngineReconciliationMismatch", "1m", []],
      ["WalletEngineReconciliationMismatch", "3m", [expected("WalletEngineReconciliationMismatch")]],
    ],
  },
  {
    name: "reconciliation: no success for 27 hours fires; a recent success does not",
    series: [[`kube_cronjob_created{${KSM}, cronjob="${fullname}-reconcile"}`, "0x1800"]],
    alerts: [
      ["WalletEngineReconciliationNotRunning", "20h", []],
      ["WalletEngineReconciliationNotRunning", "28h", [expected("WalletEngineReconciliationNotRunning")]],
    ],
  },
  {
    name: "reconciliation: a success 10 hours ago keeps it quiet",
    series: [
      [`kube_cronjob_created{${KSM}, cronjob="${fullname}-reconcile"}`, "0x1800"],
      [`kube_cronjob_status_last_successful_time{${KSM}, cronjob="${fullname}-reconcile"}`, "0x1080 64800x720"],
    ],
    alerts: [["WalletEngineReconciliationNotRunning", "28h", []]],
  },
];

test("each alert fires on its symptom and stays quiet otherwise (promtool test rules)", () => {
  const tested = new Set(cases.flatMap((c) => c.alerts.filter(([, , exp]) => exp.length > 0).map(([n]) => n)));
  for (const a of alerts) assert.ok(tested.has(a.alert), `no firing test for ${a.alert}`);
  const file = join(dir, "tests.yaml");
  writeFileSync(
    file,
    stringify({
      rule_files: [rulesFile],
      evaluation_interval: "1m",
      tests: cases.map((c) => ({
        name: c.name,
        interval: "1m",
        input_series: c.series.map(([series, values]) => ({ series: series.replaceAll(", ", ","), values })),
        alert_rule_test: c.alerts.map(([alertname, eval_time, exp_alerts]) => ({ eval_time, alertname, exp_alerts })),
      })),
    }),
  );
  const r = run(promtool, ["test", "rules", file]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SUCCESS/);
});

test("promtool's rule tests can fail (a wrong expectation is reported)", () => {
  const file = join(dir, "wrong.yaml");
  writeFileSync(
    file,
    stringify({
      rule_files: [rulesFile],
      tests: [
        {
          interval: "1m",
          input_series: [{ series: `wallet_circuit_state{${S.replaceAll(", ", ",")},shard="1"}`, values: "0x10" }],
          alert_rule_test: [{ eval_time: "5m", alertname: "WalletEngineCircuitOpen", exp_alerts: [expected("WalletEngineCircuitOpen", { pod: `${fullname}-0` })] }],
        },
      ],
    }),
  );
  const r = run(promtool, ["test", "rules", file]);
  assert.notEqual(r.status, 0);
  assert.match(r.stdout + r.stderr, /FAILED/);
});
