// The Python side: the extension installed from the wheel into the project venv, and the smoke
// notebook executed headless by nbclient with the tslab kernel against a running mevlab.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, VENV_BIN, embeddedStack, type Stack } from "../src/stack";

let stack: Stack;

before(async () => {
  stack = await embeddedStack({ rate: 5 });
});

after(async () => {
  await stack?.stop();
});

test("jupyter labextension list shows @mevlab/extension enabled and OK, installed from the mevlab wheel", () => {
  const res = spawnSync(join(VENV_BIN, "jupyter"), ["labextension", "list"], { encoding: "utf8" });
  // eslint-disable-next-line no-control-regex -- strips the ANSI colours jupyter prints
  const out = (res.stdout + res.stderr).replace(/\u001b\[[0-9;]*m/g, "");
  assert.match(out, /@mevlab\/extension v0\.1\.0 enabled OK \(python, mevlab\)/, out);
  const pip = spawnSync(join(VENV_BIN, "python"), ["-m", "pip", "show", "-f", "mevlab"], { encoding: "utf8" });
  assert.match(pip.stdout, /share\/jupyter\/labextensions\/@mevlab\/extension\/package\.json/);
});

test("notebooks/00-smoke.ipynb runs headless on the tslab kernel and shows the ack latency", () => {
  const out = join(mkdtempSync(join(tmpdir(), "mevlab-nb-")), "00-smoke.out.ipynb");
  const script = [
    "import sys, nbformat",
    "from nbclient import NotebookClient",
    "nb = nbformat.read(sys.argv[1], as_version=4)",
    "NotebookClient(nb, kernel_name='tslab', timeout=120, resources={'metadata': {'path': sys.argv[3]}}).execute()",
    "nbformat.write(nb, sys.argv[2])",
  ].join("\n");
  const res = spawnSync(
    join(VENV_BIN, "python"),
    ["-c", script, join(ROOT, "notebooks", "00-smoke.ipynb"), out, join(ROOT, "notebooks")],
    {
      encoding: "utf8",
      env: {
        ...process.env,
        MEVLAB_URL: stack.url,
        MEVLAB_USER: stack.admin.username,
        MEVLAB_PASSWORD: stack.admin.password,
      },
      timeout: 180_000,
    },
  );
  assert.equal(res.status, 0, res.stderr);
  const nb = JSON.parse(readFileSync(out, "utf8")) as {
    cells: { outputs?: { text?: string[]; data?: Record<string, string[]> }[] }[];
  };
  const text = nb.cells
    .flatMap((c) => c.outputs ?? [])
    .map((o) => (o.text ?? []).join("") + (o.data?.["text/html"] ?? []).join(""))
    .join("\n");
  assert.match(text, /logged in to http:\/\/127\.0\.0\.1:\d+ as admin/);
  assert.match(text, /throttle mev to 30%: applied by mev-1, state throttled, throttle 30%/);
  const latency = Number(/ack latency: ([0-9.]+) ms/.exec(text)?.[1]);
  assert.ok(latency > 0 && latency < 10_000, `latency ${latency}`);
  assert.match(text, /<b>applied<\/b> in <span class="mevlab-latency">[0-9.]+<\/span> ms/);
});
