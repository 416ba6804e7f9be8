// Schemathesis (PyPI, in the venv: scripts/setup.sh --fuzz) against the OpenAPI document of a live
// control plane with one agent, as an admin: generated valid and invalid requests for every
// operation, then sequences of them. No answer may be a server error, and every answer must be one
// the document lists, in the shape and content type it gives. Why these checks: docs/development.md.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { freePort } from "@mevlab/cli";
import { ROOT, VENV_BIN, agentCredential, login, startProcess, stopProcess } from "../src/stack";

const SCHEMATHESIS = join(VENV_BIN, "schemathesis");
const ADMIN = { username: "admin", password: "admin-password-1" };
/** Cases per operation and phase; about 40 s on 2 cores. MEVLAB_FUZZ_EXAMPLES runs more. */
const EXAMPLES = process.env.MEVLAB_FUZZ_EXAMPLES ?? "60";
/** Fixed, so a run is repeatable; MEVLAB_FUZZ_SEED explores others. */
const SEED = process.env.MEVLAB_FUZZ_SEED ?? "20";

let url: string;
let cp: ChildProcess;
let agent: ChildProcess;

before(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mevlab-schemathesis-"));
  const port = await freePort();
  // warn: a line per request would cost the shared CPUs; server errors are logged at error.
  const env = {
    KAFKA_BROKERS: "",
    MEVLAB_LOG_LEVEL: "warn",
    MEVLAB_BOOTSTRAP_ADMIN: `${ADMIN.username}:${ADMIN.password}`,
  };
  cp = (await startProcess(["control-plane", "--port", String(port), "--data-dir", dataDir], env, /listening/)).child;
  url = `http://127.0.0.1:${port}`;
  agentCredential(dataDir, "mev", "mev-1");
  const args = ["agent", "--module", "mev", "--agent-id", "mev-1", "--rate", "5", "--control-plane", url];
  agent = (await startProcess([...args, "--data-dir", dataDir], env, /^agent .* ready/)).child;
});

after(async () => {
  if (agent) await stopProcess(agent);
  if (cp) await stopProcess(cp);
});

/** Runs a command to its end (asynchronously: the control plane's pipes must keep draining). */
function run(command: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

test("schemathesis: no server error, every answer as the OpenAPI document says", async (t) => {
  assert.ok(existsSync(SCHEMATHESIS), `${SCHEMATHESIS} is missing: run scripts/setup.sh --fuzz`);
  const token = await login(url, ADMIN.username, ADMIN.password);
  const args = [
    // The negative check's expected statuses (414 too).
    ...["--config-file", join(ROOT, "e2e", "schemathesis.toml")],
    "run",
    `${url}/api/openapi.json`,
    ...["--header", `Authorization: Bearer ${token}`],
    // Every mutation wants it; without it each would only ever be refused 403 csrf.
    ...["--header", "X-Requested-With: mevlab"],
    // All checks but two (docs/development.md): positive_data_acceptance, as the server checks what a
    // schema cannot say (a ladder's order, a query's parameters by its name, start or its alias
    // from); unsupported_method, as Fastify answers 404 for an undeclared method, not 405.
    ...["--checks", "all", "--exclude-checks", "positive_data_acceptance,unsupported_method"],
    // Logging out would revoke the token this run uses, and everything after it would be a 401.
    ...["--exclude-path", "/api/auth/logout"],
    ...["--max-examples", EXAMPLES, "--seed", SEED, "--workers", "1"],
    ...["--generation-database", "none", "--request-timeout", "10", "--no-color"],
  ];
  const started = Date.now();
  const { code, output } = await run(SCHEMATHESIS, args, mkdtempSync(join(tmpdir(), "mevlab-schemathesis-run-")));
  const seconds = Math.round((Date.now() - started) / 1000);
  assert.equal(code, 0, `schemathesis found problems (exit ${code}, ${seconds} s):\n${output}`);
  assert.match(output, /Tested: \d+/, output);
  assert.equal(cp.exitCode, null, "the control plane exited during the run");
  const summary = [/Selected: [^\n]*/, /\d+ generated[^\n]*/].map((re) => output.match(re)?.[0] ?? "");
  t.diagnostic(`${seconds} s; operations ${summary.join("; ")}`);
});
