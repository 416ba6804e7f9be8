import { test } from "node:test";
import assert from "node:assert/strict";
import { SCHEMA_VERSION, SCHEMA_VERSION_HEADER, readsSchemaVersion } from "../src";

const headers = (value: string) => ({ [SCHEMA_VERSION_HEADER]: value });

test("a record of the current schema major is read, whatever its minor", () => {
  assert.equal(SCHEMA_VERSION, 1);
  assert.equal(readsSchemaVersion(headers("1")), true);
  assert.equal(readsSchemaVersion(headers("1.0")), true);
  assert.equal(readsSchemaVersion(headers("1.7")), true);
});

test("a record without the header is taken as the current version (producers that set no headers)", () => {
  assert.equal(readsSchemaVersion({}), true);
  assert.equal(readsSchemaVersion({ "other-header": "2" }), true);
});

test("another major, or a header that is not a version number, is not read", () => {
  for (const value of ["2", "2.0", "0", "10", "", "one", "1a", " 1", "1.", "1.2.3", "-1", "1e0", "0x1"]) {
    assert.equal(readsSchemaVersion(headers(value)), false, JSON.stringify(value));
  }
});
