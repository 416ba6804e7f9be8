import { test } from "node:test";
import assert from "node:assert/strict";
import { jsonDepthExceeds } from "../src/http/json";

test("jsonDepthExceeds counts arrays and objects, not brackets inside strings", () => {
  assert.equal(jsonDepthExceeds("{}", 1), false);
  assert.equal(jsonDepthExceeds("[[]]", 1), true);
  assert.equal(jsonDepthExceeds('{"a": [{"b": 1}]}', 3), false);
  assert.equal(jsonDepthExceeds('{"a": [{"b": 1}]}', 2), true);
  assert.equal(jsonDepthExceeds(`{"s": "${"[".repeat(100)}"}`, 1), false);
  assert.equal(jsonDepthExceeds(`{"s": "a\\\\"}`, 1), false, "an escaped backslash ends before the quote");
  assert.equal(jsonDepthExceeds(`{"s": "\\"[[["}`, 1), false, "an escaped quote does not end the string");
  assert.equal(jsonDepthExceeds(`${"[".repeat(20_000)}${"]".repeat(20_000)}`, 32), true);
  assert.equal(jsonDepthExceeds(`${"[".repeat(32)}${"]".repeat(32)}`, 32), false);
});
