// The extension's built bundle holds browser code only: it imports the control-plane client through
// @mevlab/kernel-helpers/client, never the package root, which would bring the Node runtimes along.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../src/stack";

/** Strings that only the Node runtimes' libraries contain. */
const NODE_ONLY: Record<string, RegExp> = {
  kafkajs: /KafkaJS[A-Z]\w*Error|kafkajs/,
  undici: /undici/i,
  "AWS SDK": /@aws-sdk|S3Client/,
  "DuckDB (Node or WASM)": /duckdb/i,
  "Node built-ins": /require\("(node:)?(fs|net|tls|child_process|worker_threads)"\)/,
};

test("the built extension bundle contains no kafkajs, undici, AWS SDK, DuckDB or Node built-ins", () => {
  const dir = join(ROOT, "mevlab", "labextension", "static");
  const files = readdirSync(dir).filter((f) => f.endsWith(".js"));
  assert.ok(files.length > 0, `no built bundle in ${dir}: run scripts/build-extension.sh`);
  const text = files.map((f) => readFileSync(join(dir, f), "utf8")).join("\n");
  assert.match(text, /ControlPlaneClient|\/api\/control\/module/, "the control-plane client is in the bundle");
  for (const [what, marker] of Object.entries(NODE_ONLY)) {
    assert.doesNotMatch(text, marker, `${what} in the extension bundle`);
  }
});
