import { test } from "node:test";
import assert from "node:assert/strict";
import { intOption, parseArgs } from "../src/args";

const spec = { port: "string", "no-lab": "boolean" } as const;

test("options: values, inline values and flags", () => {
  assert.deepEqual({ ...parseArgs(["--port", "5", "--no-lab"], spec) }, { port: "5", "no-lab": true });
  assert.deepEqual({ ...parseArgs(["--port=6"], spec) }, { port: "6" });
  assert.deepEqual({ ...parseArgs([], spec) }, {});
});

test("a bad command line is an error that names the problem and the known options", () => {
  assert.throws(() => parseArgs(["--bogus"], spec), /Unknown option '--bogus'; known options: --port --no-lab/);
  assert.throws(() => parseArgs(["--port"], spec), /--port <value>' argument missing/);
  assert.throws(() => parseArgs(["extra"], spec), /Unexpected argument 'extra'/);
  assert.throws(() => parseArgs(["--no-lab=yes"], spec), /'--no-lab' does not take an argument/);
});

test("integer options", () => {
  assert.equal(intOption(undefined, "rate", 5), 5);
  assert.equal(intOption("12", "rate", 5), 12);
  assert.throws(() => intOption("1.5", "rate", 5), /--rate must be a non-negative integer, got '1.5'/);
  assert.throws(() => intOption("-1", "rate", 5), /--rate must be a non-negative integer/);
});
