import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { clickHouseDdl } from "./tables";

/** Rewrites ddl/clickhouse.sql from the table specs. */
const target = join(__dirname, "..", "..", "..", "ddl", "clickhouse.sql");
writeFileSync(target, clickHouseDdl());
process.stdout.write(`wrote ${target}\n`);
