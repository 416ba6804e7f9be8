// What train() returns is what evaluate() takes: a notebook passes the handle on as it is (tslab
// type-checks every cell, so a mismatch stops the notebook). Checked by the compiler; the test only runs it.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ModelSource } from "../src/evaluate";
import type { ModelHandle } from "../src/train";

const asEvaluated = (handle: ModelHandle): ModelSource => handle;

test("a train() handle is an evaluate() model", () => {
  assert.equal(typeof asEvaluated, "function");
});
