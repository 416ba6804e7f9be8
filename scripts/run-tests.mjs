// Runs every compiled test file with node's test runner, one file at a time: the end-to-end files
// start servers, a Kafka broker, JupyterLab and Chromium, which a 2-core machine runs best in turn.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
// `unit`: the packages' own tests, no outside services (about 20 s); `e2e`: the end-to-end suites
// (Kafka, JupyterLab, Chromium, ClickHouse); nothing: both.
const SUITES = { unit: ["proto", "kernel-helpers", "agents", "control-plane", "cli"], e2e: ["e2e"] };
const which = process.argv[2];
if (which !== undefined && !(which in SUITES)) {
  console.error(`usage: node scripts/run-tests.mjs [unit|e2e]`);
  process.exit(2);
}
const packages = which ? SUITES[which] : [...SUITES.unit, ...SUITES.e2e];
const files = packages.flatMap((p) => {
  const dir = join(root, p, "dist", "test");
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".test.js"))
        .sort()
        .map((f) => join(dir, f))
    : [];
});
if (files.length === 0) {
  console.error("no compiled tests found: run `npm run build:ts` first");
  process.exit(1);
}
// A test that hangs (a wait with no deadline, a leaked handle) fails after 10 minutes with its name,
// instead of holding the whole run until CI's limit; nothing is retried.
const res = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--test-timeout=600000", ...files], {
  stdio: "inherit",
});
process.exit(res.status ?? 1);
