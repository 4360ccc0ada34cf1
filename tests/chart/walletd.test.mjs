// The configuration the chart renders, fed to the real walletd and wallet-reconcile
// (--print-config validates every setting and relation and exits 2 on any problem): for every
// scenario and every instance index the StatefulSet can give, exactly as the pods would get it.
// Needs WALLETD_BIN and WALLET_RECONCILE_BIN (check.sh passes the built binaries).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fullname, one, render, scenarios } from "./lib.mjs";

const walletdBin = process.env.WALLETD_BIN;
const reconcileBin = process.env.WALLET_RECONCILE_BIN;
const skip = walletdBin && reconcileBin ? false : "WALLETD_BIN and WALLET_RECONCILE_BIN are not set (check.sh sets them)";
const dir = mkdtempSync(join(tmpdir(), "wallet-chart-config-"));

// Runs BIN --print-config the way the pod's container does: its args, the env the chart sets
// (the pod-index label resolved to `index`), and the ConfigMap's file at the mounted path.
function printConfig(bin, container, configText, index, extraEnv = {}) {
  const file = join(dir, `walletd-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, configText);
  const args = container.args.map((a) => a.replace(/^--config=.*$/, `--config=${file}`));
  assert.ok(args.includes(`--config=${file}`), `the container names its config file: ${container.args}`);
  const env = { PATH: process.env.PATH };
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.labels['apps.kubernetes.io/pod-index']") env[e.name] = String(index);
    else throw new Error(`cannot resolve env ${e.name}`);
  }
  Object.assign(env, extraEnv);
  const r = spawnSync(bin, [...args, "--print-config"], { encoding: "utf8", env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("walletd accepts the rendered configuration at every instance index", { skip }, () => {
  for (const s of scenarios) {
    const r = render({ files: [s.file] });
    assert.equal(r.status, 0, r.stderr);
    const configText = one(r.objects, "ConfigMap", fullname).data["walletd.json"];
    const sts = one(r.objects, "StatefulSet", fullname);
    const container = sts.spec.template.spec.containers.find((c) => c.name === "walletd");
    const count = JSON.parse(configText).instance.count;
    if (JSON.parse(configText).http.tls_cert_file !== undefined) {
      const known = JSON.parse(spawnSync(walletdBin, ["--print-config"], { encoding: "utf8", env: { PATH: process.env.PATH } }).stdout);
      assert.ok("tls_cert_file" in known.http, `${s.name}: this walletd has no http.tls_cert_file, which the chart's http.tls sets (the HTTP API's TLS settings)`);
    }
    for (let index = 0; index < count; index++) {
      const out = printConfig(walletdBin, container, configText, index);
      assert.equal(out.status, 0, `${s.name}, index ${index}: ${out.stderr}`);
      const effective = JSON.parse(out.stdout);
      assert.equal(effective.instance.index, index);
      assert.equal(effective.instance.count, count);
      assert.equal(effective.http.listen_address, "0.0.0.0");
    }
    // An ordinal past the count (a pod an autoscaler or kubectl scale added) is refused.
    const past = printConfig(walletdBin, container, configText, count);
    assert.equal(past.status, 2, `${s.name}: index ${count} of ${count} was accepted`);
    assert.match(past.stderr, /instance.index .* must be < instance.count/);
  }
});

test("walletd's effective settings are the chart's values", { skip }, () => {
  const r = render({ files: [scenarios.find((s) => s.name === "replicas").file] });
  const configText = one(r.objects, "ConfigMap", fullname).data["walletd.json"];
  const container = one(r.objects, "StatefulSet", fullname).spec.template.spec.containers[0];
  const effective = JSON.parse(printConfig(walletdBin, container, configText, 3).stdout);
  assert.equal(effective.runtime.shards, 64);
  assert.equal(effective.nats.replicas, 3);
  assert.equal(effective.nats.partitioned, true);
  assert.equal(effective.store.batch_size_max, 1024);
  assert.equal(effective.log.level, "warn");
  assert.equal(effective.postgres.password_file, "/etc/walletd/secrets/postgres/password");
  assert.equal(effective.nats.credentials_file, "/etc/walletd/secrets/nats/walletd.creds");
  assert.equal(effective.shutdown.grace_period_ms, 25000);
});

test("a walletd setting misspelt under config is refused by walletd itself", { skip }, () => {
  const r = render({ set: ["config.store.batch_sise_max=10"] });
  assert.equal(r.status, 0, "the chart passes config through; walletd is the judge");
  const configText = one(r.objects, "ConfigMap", fullname).data["walletd.json"];
  const container = one(r.objects, "StatefulSet", fullname).spec.template.spec.containers[0];
  const out = printConfig(walletdBin, container, configText, 0);
  assert.equal(out.status, 2);
  assert.match(out.stderr, /store.batch_sise_max: unknown setting; did you mean store.batch_size_max\?/);
});

test("wallet-reconcile accepts the configuration its CronJob gets", { skip }, () => {
  for (const s of scenarios) {
    const r = render({ files: [s.file], set: ["reconcile.enabled=true", "reconcile.postgresUrl=postgresql://wallet@replica:5432/wallet"] });
    assert.equal(r.status, 0, r.stderr);
    const configText = one(r.objects, "ConfigMap", fullname).data["walletd.json"];
    const cron = one(r.objects, "CronJob", `${fullname}-reconcile`);
    const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
    const out = printConfig(reconcileBin, container, configText, 0);
    assert.equal(out.status, 0, `${s.name}: ${out.stderr}`);
    assert.equal(JSON.parse(out.stdout).postgres.url, "postgresql://wallet@replica:5432/wallet");
  }
});
