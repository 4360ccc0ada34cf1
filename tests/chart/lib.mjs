// Shared by the chart tests: where the tools are, rendering the chart with a real helm, and
// parsing what it rendered.
import { execFile, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "../..");
export const chart = join(root, "charts/wallet-engine");
export const tools = join(here, ".tools");
export const helms = { helm3: join(tools, "helm3/helm"), helm4: join(tools, "helm4/helm") };
export const promtool = join(tools, "promtool");
export const release = "prod";
export const namespace = "payments";
export const fullname = "prod-wallet-engine";

// What every install must set (auth's issuer, audience and keys): laid under every rendering.
export const required = join(here, "required.yaml");

// The scenarios every check runs over: tests/chart/values/*.yaml.
export const scenarios = readdirSync(join(here, "values"))
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => ({ name: f.replace(/\.yaml$/, ""), file: join(here, "values", f) }));

for (const [name, path] of Object.entries({ ...helms, promtool })) {
  if (!existsSync(path)) throw new Error(`${name} missing at ${path}: run tests/chart/setup.sh`);
}

// Helm keeps its caches out of the user's home and the tree.
const helmEnv = {
  ...process.env,
  HELM_CACHE_HOME: join(tools, "helm-home/cache"),
  HELM_CONFIG_HOME: join(tools, "helm-home/config"),
  HELM_DATA_HOME: join(tools, "helm-home/data"),
};

export function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: "utf8", env: helmEnv, maxBuffer: 64 << 20, ...options });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// helm template with the given values files and --set pairs; objects parsed when it succeeds.
// Results are remembered per process: the same rendering is asked for by several tests.
const renders = new Map();
export function render({ helm = helms.helm4, files = [], set = [], chartDir = chart, bare = false } = {}) {
  const args = ["template", release, chartDir, "--namespace", namespace];
  for (const f of chartDir === chart && !bare ? [required, ...files] : files) args.push("--values", f);
  for (const s of set) args.push("--set", s);
  const key = JSON.stringify([helm, args]);
  if (chartDir === chart && renders.has(key)) return structuredClone(renders.get(key));
  const r = run(helm, args);
  const result = r.status !== 0 ? { ...r, objects: [] } : { ...r, objects: parseObjects(r.stdout) };
  if (chartDir === chart) renders.set(key, result);
  return structuredClone(result);
}

// helm template's exit status and messages, without waiting: several run side by side.
export function renderStatus({ helm = helms.helm4, set = [] } = {}) {
  const args = ["template", release, chart, "--namespace", namespace, "--values", required];
  for (const s of set) args.push("--set", s);
  return new Promise((resolvePromise) => {
    execFile(helm, args, { env: helmEnv, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolvePromise({ status: error ? (error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

export function parseObjects(text) {
  const objects = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`helm rendered invalid YAML: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

export function find(objects, kind, name) {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function one(objects, kind, name) {
  const found = find(objects, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ""}, rendered ${found.length}`);
  return found[0];
}

// Does a label selector (matchLabels only, as the chart writes them) select these labels?
export function selects(selector, labels) {
  const want = selector.matchLabels ?? selector;
  return Object.keys(want).length > 0 && Object.entries(want).every(([k, v]) => labels?.[k] === v);
}
