import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * The runtime jars of a Maven project (`pom`), resolved from Maven Central once into the mevlab cache
 * (`MEVLAB_CACHE_DIR`, default ~/.cache/mevlab) as `<name>-<version>/`. A download that fails or does
 * not yield `<jarPrefix>*` leaves nothing behind; the folder appears whole or not at all.
 */
export function mavenJars(opts: {
  name: string;
  version: string;
  pom: string;
  jarPrefix: string;
  log?: (line: string) => void;
}): string {
  const { name, version } = opts;
  const cache = process.env.MEVLAB_CACHE_DIR ?? join(homedir(), ".cache", "mevlab");
  const dir = join(cache, `${name}-${version}`);
  if (existsSync(join(dir, ".complete"))) return dir;
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, `${name}-download-`));
  opts.log?.(`downloading ${name} ${version} jars from Maven Central into ${dir} (once)`);
  const res = spawnSync(
    "mvn",
    ["-q", "-B", "-f", opts.pom, "dependency:copy-dependencies", `-DoutputDirectory=${tmp}`, "-DincludeScope=runtime"],
    { encoding: "utf8" },
  );
  if (res.status !== 0 || !readdirSync(tmp).some((f) => f.startsWith(opts.jarPrefix))) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      res.status !== 0
        ? `cannot resolve ${name} jars with Maven (exit ${res.status}): ${res.stderr || res.stdout || res.error}`
        : `Maven did not produce ${opts.jarPrefix}*.jar for ${name}`,
    );
  }
  writeFileSync(join(tmp, ".complete"), version);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}
