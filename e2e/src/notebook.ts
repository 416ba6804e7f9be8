import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, VENV_BIN } from "./stack";

export type NotebookOutput = { text?: string[]; data?: Record<string, unknown> };

const NBCLIENT = [
  "import sys, nbformat",
  "from nbclient import NotebookClient",
  "nb = nbformat.read(sys.argv[1], as_version=4)",
  "NotebookClient(nb, kernel_name='tslab', timeout=120, resources={'metadata': {'path': sys.argv[3]}}).execute()",
  "nbformat.write(nb, sys.argv[2])",
].join("\n");

/**
 * Executes `notebooks/<name>.ipynb` headless with nbclient on the tslab kernel (run from notebooks/),
 * writes the executed notebook to `out` (a temporary file by default) and returns every cell's outputs.
 */
export function runNotebook(name: string, env: NodeJS.ProcessEnv, out?: string): NotebookOutput[] {
  const target = out ?? join(mkdtempSync(join(tmpdir(), "mevlab-nb-")), `${name}.out.ipynb`);
  const res = spawnSync(
    join(VENV_BIN, "python"),
    ["-c", NBCLIENT, join(ROOT, "notebooks", `${name}.ipynb`), target, join(ROOT, "notebooks")],
    { encoding: "utf8", env: { ...process.env, ...env }, timeout: 180_000 },
  );
  assert.equal(res.status, 0, res.stderr);
  const nb = JSON.parse(readFileSync(target, "utf8")) as { cells: { outputs?: NotebookOutput[] }[] };
  return nb.cells.flatMap((c) => c.outputs ?? []);
}

/**
 * runNotebook() without blocking this process: for notebooks that call a control plane running in the
 * test's own process (spawnSync would stop its event loop, and the kernel would wait for it forever).
 */
export async function runNotebookAsync(name: string, env: NodeJS.ProcessEnv, out?: string): Promise<NotebookOutput[]> {
  const target = out ?? join(mkdtempSync(join(tmpdir(), "mevlab-nb-")), `${name}.out.ipynb`);
  const child = spawn(
    join(VENV_BIN, "python"),
    ["-c", NBCLIENT, join(ROOT, "notebooks", `${name}.ipynb`), target, join(ROOT, "notebooks")],
    { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString("utf8")).slice(-20_000)));
  const timer = setTimeout(() => child.kill("SIGKILL"), 300_000);
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  clearTimeout(timer);
  assert.equal(code, 0, stderr);
  const nb = JSON.parse(readFileSync(target, "utf8")) as { cells: { outputs?: NotebookOutput[] }[] };
  return nb.cells.flatMap((c) => c.outputs ?? []);
}
