// The job's wire schema is written out (the client's JobView type is derived from it), and the control
// plane serializes jobs through it, dropping any field it does not name: it must follow the contract.
import { test } from "node:test";
import assert from "node:assert/strict";
import { JobSchema } from "@mevlab/proto";
import type { TSchema } from "@sinclair/typebox";
import { JobView } from "../src/client/wire";
import { protoJsonProperties } from "../src/client/proto-schema";

test("JobView names every field of the contract's Job message, with its JSON mapping's type", () => {
  const contract = protoJsonProperties(JobSchema);
  // The API shows these JSON strings parsed, as params, manifest and metrics.
  delete contract.params_json;
  delete contract.manifest_json;
  delete contract.metrics_json;
  const view = JobView.properties as Record<string, TSchema>;
  assert.deepEqual(Object.keys(view).sort(), [...Object.keys(contract), "params", "manifest", "metrics"].sort());
  for (const [name, schema] of Object.entries(contract)) {
    assert.equal(view[name].type, schema.type, `${name}: type`);
    assert.equal(view[name].pattern, schema.pattern, `${name}: pattern`);
  }
});
