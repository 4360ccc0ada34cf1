// The Dockerfile, checked without a Docker engine: it parses and validates (dockerfile-utils, the
// VS Code Dockerfile validator), builds the CMake targets that exist at the paths CMake puts them,
// runs as the chart's non-root user, ships the programs the chart runs, and its runtime stage
// installs the Debian package of every shared library the built programs link directly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, realpathSync } from "node:fs";
import { join, relative } from "node:path";
import { createRequire } from "node:module";
import { fullname, one, render, root } from "./lib.mjs";

const require = createRequire(import.meta.url);
const { validate } = require("dockerfile-utils");
const { DockerfileParser } = require("dockerfile-ast");

const text = readFileSync(join(root, "Dockerfile"), "utf8");
const dockerfile = DockerfileParser.parse(text);
const froms = dockerfile.getFROMs();
const instructions = dockerfile.getInstructions();
const stageOf = (ins) => froms.filter((f) => f.getRange().start.line <= ins.getRange().start.line).at(-1);
const runtime = froms.at(-1);
const inRuntime = instructions.filter((i) => stageOf(i) === runtime);
const args = (ins) => ins.getArguments().map((a) => a.getValue());

// Packages named in the runtime stage's apt-get install.
const runtimePackages = inRuntime
  .filter((i) => i.getKeyword() === "RUN")
  .flatMap((i) => {
    const words = args(i).filter((w) => w !== "\\");
    const at = words.findIndex((w, k) => w === "install" && words[k - 1] === "apt-get");
    if (at < 0) return [];
    const out = [];
    for (const w of words.slice(at + 1)) {
      if (w === "&&") break;
      if (!w.startsWith("-")) out.push(w);
    }
    return out;
  });

test("the Dockerfile parses and validates cleanly", () => {
  assert.deepEqual(validate(text).map((d) => `${d.range.start.line + 1}: ${d.message}`), []);
  assert.ok(validate("FROM debian:12\nRUNN true\n").length > 0, "the validator reports errors");
});

test("two stages: build on debian:12, run on debian:12-slim", () => {
  assert.deepEqual(
    froms.map((f) => [f.getImageName(), f.getImageTag(), f.getBuildStage()]),
    [
      ["debian", "12", "build"],
      ["debian", "12-slim", "runtime"],
    ],
  );
  const buildRuns = instructions.filter((i) => stageOf(i) === froms[0] && i.getKeyword() === "RUN").map((i) => args(i).join(" "));
  assert.ok(buildRuns.some((r) => r.includes("bash scripts/install-deps.sh")), "the build installs with the project's script");
  assert.ok(buildRuns.some((r) => r.includes("-DCMAKE_BUILD_TYPE=Release")));
});

test("the runtime stage runs as the chart's non-root user and has no build tools", () => {
  const users = inRuntime.filter((i) => i.getKeyword() === "USER").map((i) => args(i).join(" "));
  assert.equal(users.length, 1);
  const r = render({});
  const pod = one(r.objects, "StatefulSet", fullname).spec.template.spec;
  assert.equal(users[0], `${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`);
  assert.notEqual(pod.securityContext.runAsUser, 0);
  for (const p of runtimePackages) assert.doesNotMatch(p, /-dev$|^(g\+\+|gcc|cmake|make|clang.*)$/, p);
  assert.ok(!inRuntime.some((i) => i.getKeyword() === "ENV" && /PASSWORD|SECRET|TOKEN/i.test(args(i).join(" "))));
  assert.ok(!inRuntime.some((i) => i.getKeyword() === "VOLUME"), "no VOLUME: walletd keeps no local state");
  const entrypoint = inRuntime.find((i) => i.getKeyword() === "ENTRYPOINT");
  assert.match(args(entrypoint).join(" "), /\/usr\/local\/bin\/walletd/);
});

// The programs the build installs into /out/bin (and the runtime copies to /usr/local/bin).
const buildRun = args(instructions.find((i) => i.getKeyword() === "RUN" && args(i).includes("--target"))).filter((w) => w !== "\\");
const targets = buildRun.slice(buildRun.indexOf("--target") + 1, buildRun.indexOf("&&", buildRun.indexOf("--target")));
const installed = buildRun.filter((w) => w.startsWith("/build/"));

test("it builds the four programs, and the chart runs programs the image has", () => {
  assert.deepEqual(targets, ["walletd", "walletctl", "wallet-reconcile", "wallet-loadtest"]);
  for (const t of targets) {
    assert.ok(installed.some((p) => p.endsWith(`/${t}`)), `${t} is built but not installed`);
  }
  const r = render({});
  const commands = [
    ...one(r.objects, "StatefulSet", fullname).spec.template.spec.containers.map((c) => c.command[0]),
    ...r.objects.filter((o) => o.kind === "CronJob").map((c) => c.spec.jobTemplate.spec.template.spec.containers[0].command[0]),
  ];
  for (const c of commands) assert.ok(targets.some((t) => c === `/usr/local/bin/${t}`), `the image has no ${c}`);
  const cmakeText = spawnSync("grep", ["-rh", "add_executable(", "--include=CMakeLists.txt", join(root, "app"), join(root, "loadtest")], { encoding: "utf8" }).stdout;
  for (const t of targets) assert.match(cmakeText, new RegExp(`add_executable\\(${t}[ )]`), `no CMake target ${t}`);
});

// Built binaries (check.sh passes them): where CMake put them, and what they link.
const binaries = Object.entries({
  walletd: process.env.WALLETD_BIN,
  walletctl: process.env.WALLETCTL_BIN,
  "wallet-reconcile": process.env.WALLET_RECONCILE_BIN,
  "wallet-loadtest": process.env.WALLET_LOADTEST_BIN,
}).filter(([, path]) => path);
const buildDir = process.env.WALLET_BUILD_DIR;
const skip = binaries.length && buildDir ? false : "no built binaries given (check.sh passes them)";

test("the Dockerfile installs each program from where CMake builds it", { skip }, () => {
  for (const [name, path] of binaries) {
    const rel = relative(realpathSync(buildDir), realpathSync(path));
    assert.ok(installed.includes(`/build/${rel}`), `${name} is built at <build>/${rel}; the Dockerfile installs ${installed.join(", ")}`);
  }
});

// Debian packages owning these library paths, in one dpkg query (it is slow per call). usrmerge:
// dpkg may know a library under /lib or /usr/lib, so each path is asked in both forms.
function packagesOf(libPaths) {
  const candidates = new Map();
  for (const p of libPaths) {
    const real = realpathSync(p);
    for (const c of [real, real.replace(/^\/usr/, ""), p, p.replace(/^\/usr/, "")]) candidates.set(c, p);
  }
  const r = spawnSync("dpkg-query", ["-S", ...candidates.keys()], { encoding: "utf8" });
  const owner = new Map();
  for (const line of r.stdout.split("\n")) {
    const m = line.match(/^([^:,]+)(?::[^:]+)?: (\S+)$/);
    if (m && candidates.has(m[2])) owner.set(candidates.get(m[2]), m[1]);
  }
  for (const p of libPaths) if (!owner.has(p)) throw new Error(`no Debian package owns ${p}`);
  return owner;
}

test("the runtime stage installs the package of every library the programs link directly", { skip }, () => {
  const needed = new Map(); // library path -> soname
  for (const [name, path] of binaries) {
    const dynamic = spawnSync("objdump", ["-p", path], { encoding: "utf8" }).stdout;
    const libs = [...dynamic.matchAll(/^\s*NEEDED\s+(\S+)/gm)].map((m) => m[1]);
    assert.ok(libs.length > 0, `${name}: no NEEDED entries read`);
    const ldd = spawnSync("ldd", [path], { encoding: "utf8" }).stdout;
    for (const lib of libs) {
      const m = ldd.match(new RegExp(`^\\s*${lib.replace(/[.+]/g, "\\$&")} => (\\S+)`, "m"));
      assert.ok(m, `${name}: ${lib} is not found by ldd`);
      needed.set(m[1], lib);
    }
  }
  const owners = packagesOf([...needed.keys()]);
  const packages = new Map([...owners].map(([path, pkg]) => [pkg, needed.get(path)]));
  const base = new Set(["libc6"]); // in every Debian image
  const missing = [...packages.keys()].filter((p) => !base.has(p) && !runtimePackages.includes(p));
  assert.deepEqual(missing, [], `runtime stage lacks packages for ${missing.map((p) => packages.get(p)).join(", ")}`);
  assert.ok(packages.has("libpq5") && packages.has("libstdc++6"), `owners not read: ${[...packages.keys()]}`);
  const known = spawnSync("dpkg-query", ["-W", "-f=${Package}\\n", ...runtimePackages], { encoding: "utf8" });
  const names = new Set(known.stdout.split("\n"));
  for (const p of runtimePackages) assert.ok(names.has(p), `${p} is not a Debian 12 package installed here: check its name`);
});

test(".dockerignore keeps build trees, git and npm trees out of the context", () => {
  const ignore = readFileSync(join(root, ".dockerignore"), "utf8").split("\n").map((l) => l.trim());
  for (const p of [".git", "build", "build-*", ".run", "**/node_modules", "tests/chart/.tools"]) assert.ok(ignore.includes(p), p);
});
