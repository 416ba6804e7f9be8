// Writes the golden vectors: proto/vectors/<Message>.bin and .json. Run after changing the contract
// (`npm run vectors --workspace proto`) and commit the result; the tests compare against these files.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import { toWireJson } from "../json";
import { SAMPLES } from "./samples";

export const VECTORS_DIR = join(__dirname, "..", "..", "..", "vectors");

function main(): void {
  for (const { schema, message } of SAMPLES) {
    writeFileSync(join(VECTORS_DIR, `${schema.name}.bin`), toBinary(schema, message));
    const json = JSON.stringify(toWireJson(schema, message), null, 2) + "\n";
    writeFileSync(join(VECTORS_DIR, `${schema.name}.json`), json);
  }
  process.stdout.write(`wrote ${SAMPLES.length} vectors to ${VECTORS_DIR}\n`);
}

if (require.main === module) main();
