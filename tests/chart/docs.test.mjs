// The operations documents against what they describe: the NATS cluster configuration parses
// (nats-server -t) and partitions like the chart, the settings the deployment guide maps exist in
// walletd, the chart's install notes tell how a resize proceeds, and every relative link resolves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { chart, fullname, helms, namespace, one, release, render, required, root, run } from "./lib.mjs";

const docs = join(root, "docs");
const natsConf = join(docs, "operations/nats-cluster.conf");
const natsServer = ["/usr/sbin/nats-server", "/usr/bin/nats-server"].find((p) => existsSync(p));

test("the documented NATS cluster configuration parses and partitions by the chart's shard count", () => {
  assert.ok(natsServer, "nats-server is not installed (scripts/install-deps.sh installs it)");
  const r = spawnSync(natsServer, ["-c", natsConf, "-t"], { encoding: "utf8", env: { ...process.env, NATS_SERVER_NAME: "nats-0" } });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const text = readFileSync(natsConf, "utf8");
  const counts = [...text.matchAll(/partition\((\d+),1\)/g)].map((m) => Number(m[1]));
  const shards = JSON.parse(one(render({}).objects, "ConfigMap", fullname).data["walletd.json"]).runtime.shards;
  assert.deepEqual(counts, [shards, shards]);
  assert.match(text, /"wallet\.cmd\.\*": "wallet\.cmdp\.\{\{partition\(\d+,1\)\}\}\.\{\{wildcard\(1\)\}\}"/);
  assert.match(text, /"wallet\.sys\.\*": "wallet\.sysp\./);
});

test("every walletd setting the deployment guide maps exists", { skip: process.env.WALLETD_BIN ? false : "WALLETD_BIN is not set" }, () => {
  const guide = readFileSync(join(docs, "deployment.md"), "utf8");
  const section = guide.slice(guide.indexOf("### Which walletd setting each value sets"), guide.indexOf("## 5. Install"));
  const rows = section.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| chart value") && !l.startsWith("|---"));
  const settings = rows.map((l) => l.split("|")[2]).flatMap((cell) => [...cell.matchAll(/`([a-z_]+\.[a-z_]+)`/g)].map((m) => m[1]));
  assert.ok(settings.length >= 12, `read ${settings.length} settings from the table`);
  const effective = JSON.parse(spawnSync(process.env.WALLETD_BIN, ["--print-config"], { encoding: "utf8", env: { PATH: process.env.PATH } }).stdout);
  for (const s of settings) {
    const [section, name] = s.split(".");
    assert.ok(effective[section] && name in effective[section], `walletd has no setting ${s}`);
  }
  // And the chart sets exactly these (its rendered configuration, less what comes from config).
  // The JWKS comes from a URL or from a Secret, never both: two renderings cover both.
  const secrets = ["postgres.passwordSecret.name=pg", "nats.credentialsSecret.name=nats", "http.tls.enabled=true", "http.tls.secretName=tls"];
  const renderedSettings = (set) => {
    const cfg = JSON.parse(one(render({ set }).objects, "ConfigMap", fullname).data["walletd.json"]);
    return Object.entries(cfg).flatMap(([sec, values]) => Object.keys(values).map((n) => `${sec}.${n}`));
  };
  const rendered = new Set([...renderedSettings(secrets), ...renderedSettings([...secrets, "auth.jwksUrl=", "auth.jwksSecret.name=jwks"])]);
  assert.deepEqual([...new Set(settings)].filter((s) => s !== "instance.index").sort(), [...rendered].sort());
});

test("the install notes say how a resize proceeds and which mapping NATS needs", () => {
  const r = run(helms.helm4, ["install", release, chart, "--namespace", namespace, "--dry-run=client", "--values", required, "--set", "shards=32", "--set", "replicas=2"]);
  assert.equal(r.status, 0, r.stderr);
  const notes = r.stdout.slice(r.stdout.indexOf("NOTES:"));
  assert.match(notes, /How a resize proceeds/);
  assert.match(notes, new RegExp(`kubectl -n ${namespace} scale statefulset/${fullname} --replicas=0`));
  assert.match(notes, /helm upgrade prod <chart> --reuse-values --set replicas=<new count>\s+\(at most 32\)/);
  assert.match(notes, /wallet\.cmdp\.\{\{partition\(32,1\)\}\}\.\{\{wildcard\(1\)\}\}/);
});

test("relative links in the operations documents resolve", () => {
  const files = [
    join(docs, "deployment.md"),
    ...readdirSync(join(docs, "operations")).filter((f) => f.endsWith(".md")).map((f) => join(docs, "operations", f)),
    ...readdirSync(join(docs, "runbooks")).map((f) => join(docs, "runbooks", f)),
  ];
  let links = 0;
  for (const file of files) {
    for (const [, target] of readFileSync(file, "utf8").matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      links++;
      assert.ok(existsSync(resolve(dirname(file), target)), `${file}: broken link ${target}`);
    }
  }
  assert.ok(links > 30, `only ${links} links checked`);
});
