// The features a promoted model may read (AGENT_FEATURES) are the trainer's `default` + `extended`
// sets of each module (mevlab/train/features.py), in the same order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { AGENT_FEATURES } from "../src/client/model-features";

test("AGENT_FEATURES is the trainer's default + extended set of each module", () => {
  const root = join(__dirname, "../../..");
  const r = spawnSync(
    join(root, ".venv/bin/python"),
    [
      "-c",
      "import json; from mevlab.train.features import feature_set; print(json.dumps({m: feature_set(m, 'extended') for m in ('arbitrage', 'mev')}))",
    ],
    { cwd: root, encoding: "utf8" },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), AGENT_FEATURES);
});
