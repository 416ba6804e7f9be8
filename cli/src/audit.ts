import { anchorTarget, auditPaths, readAuditKey, verifyAudit } from "@mevlab/control-plane";
import { parseArgs } from "./args";
import { dataDirOf } from "./commands";

const say = (line: string): void => void process.stdout.write(line + "\n");

/**
 * `mevlab audit verify`: checks the audit log's chain and HMACs and, with an anchor (`--anchor` or
 * MEVLAB_AUDIT_ANCHOR), that its tail is whole. Prints what it found; returns the exit status, 1 on
 * any problem.
 */
export async function runAudit(argv: readonly string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== "verify") throw new Error("usage: mevlab audit verify [--data-dir D] [--anchor FILE]");
  const o = parseArgs(rest, { "data-dir": "string", anchor: "string" });
  const dataDir = dataDirOf(o["data-dir"]);
  const { file, keyFile } = auditPaths(dataDir);
  const spec = typeof o.anchor === "string" ? o.anchor : process.env.MEVLAB_AUDIT_ANCHOR || undefined;
  const report = await verifyAudit({
    file,
    key: readAuditKey(keyFile),
    anchor: spec === undefined ? undefined : anchorTarget(spec, dataDir),
  });
  say(`audit log ${report.file}: ${report.records} records`);
  for (const note of report.notes) say(`  note: ${note}`);
  for (const problem of report.problems) say(`  PROBLEM ${problem}`);
  const n = report.problems.length;
  say(n === 0 ? "verified" : `NOT verified: ${n} problem${n === 1 ? "" : "s"}`);
  return n === 0 ? 0 : 1;
}
