import { chmodSync, mkdirSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";

/**
 * The data dir holds the users, the keys, the journals and the events: the operator's alone (0700).
 * One an older version created 0755 is tightened, and said so; the export roots inside it are created
 * 0700 too (one outside it is the operator's to set up).
 */
export function privateDataDir(dir: string, exportRoots: readonly string[], log: (line: string) => void): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = statSync(dir).mode & 0o777;
  if (mode & 0o077) {
    chmodSync(dir, 0o700);
    log(`data dir ${dir} was open to other users (mode ${mode.toString(8)}): now 0700`);
  }
  for (const root of exportRoots) {
    if (root.startsWith("s3://")) continue;
    const rel = relative(resolve(dir), resolve(root));
    if (rel && !rel.startsWith("..") && !isAbsolute(rel)) mkdirSync(root, { recursive: true, mode: 0o700 });
  }
}
