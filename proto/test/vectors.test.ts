import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { equals, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { file_mevlab_v1_control } from "../src/gen/mevlab/v1/control_pb";
import { file_mevlab_v1_market } from "../src/gen/mevlab/v1/market_pb";
import { file_mevlab_v1_realtime } from "../src/gen/mevlab/v1/realtime_pb";
import { file_mevlab_v1_link } from "../src/gen/mevlab/v1/link_pb";
import { fromWireJson, toWireJson } from "../src/json";
import { SAMPLES } from "../src/vectors/samples";
import { VECTORS_DIR } from "../src/vectors/write";
import { MevOpportunitySchema, TOPICS } from "../src";

const schemas = new Map<string, DescMessage>(SAMPLES.map((s) => [s.schema.name, s.schema]));

test("every topic message and every frame has a committed golden vector", () => {
  const files = new Set(readdirSync(VECTORS_DIR));
  const required = [...Object.values(TOPICS).map((t) => t.schema.name), "ClientFrame", "ServerFrame", "LinkFrame"];
  for (const name of required) {
    assert.ok(files.has(`${name}.bin`), `missing vectors/${name}.bin`);
    assert.ok(files.has(`${name}.json`), `missing vectors/${name}.json`);
  }
});

test("the vectors cover only messages of mevlab.v1", () => {
  const declared = new Set(
    [file_mevlab_v1_control, file_mevlab_v1_market, file_mevlab_v1_realtime, file_mevlab_v1_link]
      .flatMap((f) => f.messages)
      .map((m) => m.name),
  );
  for (const name of schemas.keys()) assert.ok(declared.has(name), name);
});

for (const [name, schema] of schemas) {
  test(`golden vector ${name}: binary and JSON decode, re-encode byte for byte and agree`, () => {
    const bin = new Uint8Array(readFileSync(join(VECTORS_DIR, `${name}.bin`)));
    const jsonText = readFileSync(join(VECTORS_DIR, `${name}.json`), "utf8");
    const fromBin = fromBinary(schema, bin);
    assert.deepEqual(Buffer.from(toBinary(schema, fromBin)), Buffer.from(bin));
    const fromJson = fromWireJson(schema, JSON.parse(jsonText));
    assert.ok(equals(schema, fromBin, fromJson), `${name}: binary and JSON vectors differ`);
    assert.equal(JSON.stringify(toWireJson(schema, fromJson), null, 2) + "\n", jsonText);
  });
}

test("the samples still encode to the committed vectors (regenerate with npm run vectors)", () => {
  for (const { schema, message } of SAMPLES) {
    const bin = new Uint8Array(readFileSync(join(VECTORS_DIR, `${schema.name}.bin`)));
    assert.deepEqual(Buffer.from(toBinary(schema, message)), Buffer.from(bin), schema.name);
  }
});

test("64-bit lamports beyond 2^53 stay exact in binary and JSON", () => {
  const json = JSON.parse(readFileSync(join(VECTORS_DIR, "MevOpportunity.json"), "utf8"));
  assert.equal(json.victim_amount_in, "9007199254740993");
  const msg = fromWireJson(MevOpportunitySchema, json);
  assert.equal(msg.victimAmountIn, 9_007_199_254_740_993n);
});

test("the JSON form of a control command is the blueprint's control message", () => {
  const json = JSON.parse(readFileSync(join(VECTORS_DIR, "ControlCommand.json"), "utf8"));
  assert.equal(json.module, "mev");
  assert.equal(json.action, "throttle");
  assert.deepEqual(json.args.tip_ladder, [0.5, 0.7, 0.85, 0.95]);
  assert.equal(json.args.throttle_pct, 30);
  assert.equal(typeof json.request_id, "string");
});
