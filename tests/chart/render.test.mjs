// helm lint --strict and helm template with helm 3 and helm 4 over every scenario, and every
// rendered object validated against its Kubernetes (or prometheus-operator) schema, offline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chart, helms, required, run, render, scenarios } from "./lib.mjs";

// apiVersion + kind -> the module of its model (kubernetes-models, Kubernetes 1.34 schemas;
// @kubernetes-models/prometheus-operator for ServiceMonitor and PrometheusRule).
function modelPath(apiVersion, kind) {
  if (apiVersion === "monitoring.coreos.com/v1") {
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

async function validateObject(o) {
  const path = modelPath(o.apiVersion, o.kind);
  let module;
  try {
    module = await import(path);
  } catch (e) {
    throw new Error(`no schema for ${o.apiVersion} ${o.kind} (${path}): ${e.message}`);
  }
  const Model = module[o.kind];
  assert.ok(Model, `${path} exports no ${o.kind}`);
  try {
    new Model(o).validate();
  } catch (e) {
    throw new Error(`${o.kind}/${o.metadata?.name} does not validate: ${e.message}`);
  }
}

for (const [helmName, helm] of Object.entries(helms)) {
  for (const s of scenarios) {
    test(`${helmName}: lint --strict with ${s.name} values`, () => {
      const r = run(helm, ["lint", "--strict", chart, "--values", required, "--values", s.file]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(r.stdout, /\[(WARNING|ERROR)\]/);
    });

    test(`${helmName}: template with ${s.name} values renders objects that validate`, async () => {
      const r = render({ helm, files: [s.file] });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.objects.length >= 5, `only ${r.objects.length} objects rendered`);
      for (const o of r.objects) await validateObject(o);
    });
  }
}

test("helm 3 and helm 4 render the same objects", () => {
  for (const s of scenarios) {
    const a = render({ helm: helms.helm3, files: [s.file] });
    const b = render({ helm: helms.helm4, files: [s.file] });
    assert.equal(a.status, 0, a.stderr);
    assert.equal(b.status, 0, b.stderr);
    assert.deepEqual(a.objects, b.objects, `helm 3 and helm 4 differ on ${s.name}`);
  }
});

test("the schema check itself rejects a broken object (the validator is not a no-op)", async () => {
  const r = render({ files: [] });
  const sts = structuredClone(r.objects.find((o) => o.kind === "StatefulSet"));
  sts.spec.template.spec.containers[0].ports[0].containerPort = "http";
  await assert.rejects(validateObject(sts), /containerPort must be integer/);
  const sm = structuredClone(r.objects.find((o) => o.kind === "ServiceMonitor"));
  sm.spec.endpoints[0].interval = "15 seconds";
  await assert.rejects(validateObject(sm), /interval must match pattern/);
});
