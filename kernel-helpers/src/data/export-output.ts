/**
 * Where an export may write: the allowed roots (`MEVLAB_EXPORT_ROOTS`) and the checks that put an
 * output strictly inside one of them, as a new local directory or an `s3://bucket/prefix`.
 */
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { DataError } from "../errors";

export type OutputTarget =
  { kind: "local"; dir: string; uri: string } | { kind: "s3"; bucket: string; prefix: string; uri: string };

/** The export roots from `MEVLAB_EXPORT_ROOTS`, or the current directory. */
export function defaultExportRoots(): string[] {
  const env = process.env.MEVLAB_EXPORT_ROOTS;
  const roots = env
    ? env
        .split(",")
        .map((r) => r.trim())
        .filter(Boolean)
    : [];
  return roots.length ? roots : [process.cwd()];
}

/**
 * Checks an output against the allowed roots: no `..` segments, no control characters, a new place
 * strictly inside a root (symbolic links resolved, so a link cannot lead outside).
 */
export function resolveOutput(output: unknown, roots: readonly string[] = defaultExportRoots()): OutputTarget {
  const bad = (message: string) => new DataError(message, { field: "output" });
  if (typeof output !== "string" || output.trim() === "") {
    throw bad("'output' must be a directory path or s3://bucket/prefix");
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(output)) throw bad("'output' contains control characters");
  const segments = output.split(/[\\/]+/);
  if (segments.includes("..")) throw bad(`'output' ${JSON.stringify(output)} contains '..': path traversal is refused`);
  const s3Roots = roots.filter((r) => r.startsWith("s3://")).map((r) => parseS3(r, "allowed root"));
  const localRoots = roots.filter((r) => !r.startsWith("s3://")).map((r) => canonical(resolve(r)));
  if (output.startsWith("s3://")) {
    const { bucket, prefix } = parseS3(output, "'output'");
    if (!prefix) throw bad(`'output' ${output} needs a prefix inside the bucket (s3://${bucket}/name)`);
    const inside = s3Roots.some((r) => r.bucket === bucket && (r.prefix === "" || prefix.startsWith(`${r.prefix}/`)));
    if (!inside) {
      throw bad(
        `'output' ${output} is outside the allowed export roots ` +
          `(${s3Roots.length ? s3Roots.map((r) => `s3://${r.bucket}/${r.prefix}`).join(", ") : "no S3 roots"}); ` +
          "add the bucket to MEVLAB_EXPORT_ROOTS",
      );
    }
    return { kind: "s3", bucket, prefix, uri: `s3://${bucket}/${prefix}` };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(output)) {
    throw bad(`'output' ${JSON.stringify(output)}: only local directories and s3:// are supported`);
  }
  if (localRoots.length === 0) throw bad("no local export roots are allowed here; use an s3:// output");
  const dir = canonical(isAbsolute(output) ? resolve(output) : resolve(localRoots[0], output));
  const root = localRoots.find((r) => dir.startsWith(r.endsWith(sep) ? r : r + sep));
  if (!root) {
    throw bad(
      `'output' ${dir} is outside the allowed export roots (${localRoots.join(", ")}); see MEVLAB_EXPORT_ROOTS`,
    );
  }
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw bad(`'output' ${dir} exists and is not a directory`);
    if (readdirSync(dir).length) throw bad(`'output' ${dir} already exists and is not empty; exports never overwrite`);
  }
  return { kind: "local", dir, uri: dir };
}

/** The real path of `p`: its deepest existing ancestor resolved through symbolic links, plus the rest. */
function canonical(p: string): string {
  let existing = p;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  const real = existsSync(existing) ? realpathSync(existing) : existing;
  return join(real, relative(existing, p));
}

export function parseS3(uri: string, what: string): { bucket: string; prefix: string } {
  const rest = uri.slice("s3://".length);
  const [bucket, ...parts] = rest.split("/");
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new DataError(`${what} ${uri}: ${JSON.stringify(bucket)} is not a valid bucket name`, { field: "output" });
  }
  while (parts.length && parts[parts.length - 1] === "") parts.pop();
  if (parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new DataError(`${what} ${uri} has an empty, '.' or '..' segment`, { field: "output" });
  }
  return { bucket, prefix: parts.join("/") };
}
