// The mevlab wheel alone (issue 23): installed into a clean virtualenv (no system packages, nothing
// from the project's own venv), `jupyter labextension list` shows the prebuilt extension enabled and
// OK with no Node.js on the PATH — a user installs it with pip, nothing else. The wheel is the one
// the set-up built (build/wheel); JupyterLab and its dependencies come from the package index.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, VENV_BIN } from "../src/stack";

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

test("the wheel in a clean virtualenv: the extension is enabled and OK, without Node.js", () => {
  const wheels = readdirSync(join(ROOT, "build", "wheel")).filter((f) => /^mevlab-.*\.whl$/.test(f));
  assert.equal(wheels.length, 1, `one wheel in build/wheel: ${wheels.join(", ")}`);
  const dir = mkdtempSync(join(tmpdir(), "mevlab-wheel-"));
  try {
    const venv = join(dir, "venv");
    // The project venv's Python, but a venv of its own: without --system-site-packages it sees none of it.
    run(join(VENV_BIN, "python"), ["-m", "venv", venv]);
    const bin = join(venv, "bin");
    run(join(bin, "python"), ["-m", "pip", "install", "-q", join(ROOT, "build", "wheel", wheels[0])]);
    const env = { HOME: dir, PATH: bin, JUPYTER_CONFIG_DIR: join(dir, "jupyter"), JUPYTER_DATA_DIR: join(dir, "data") };
    assert.equal(spawnSync("node", ["--version"], { env }).error?.message.includes("ENOENT"), true, "no node on PATH");
    // eslint-disable-next-line no-control-regex -- the colours it writes
    const out = run(join(bin, "jupyter"), ["labextension", "list"], env).replace(/\x1b\[[0-9;]*m/g, "");
    assert.match(out, /@mevlab\/extension v0\.1\.0 enabled OK \(python, mevlab\)/, out);
    assert.doesNotMatch(out, /disabled|not enabled|X\b/, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
