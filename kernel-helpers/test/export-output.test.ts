// Where an export may write: resolveOutput's path rules, without DuckDB, S3 or a server. Local roots are
// made in a fresh temporary directory (its real path, so the platform's own /tmp link plays no part).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataError } from "../src/errors";
import { defaultExportRoots, resolveOutput, validateExport } from "../src/data/export";

const base = realpathSync(mkdtempSync(join(tmpdir(), "mevlab-export-output-")));
const root = join(base, "root");
const root2 = join(base, "root2"); // shares root's name as a prefix: not inside it
const outside = join(base, "outside");
for (const d of [root, root2, outside, join(root, "real"), join(root, "full")]) mkdirSync(d, { recursive: true });
writeFileSync(join(root, "full", "x.parquet"), "");
writeFileSync(join(root, "afile"), "");
symlinkSync(outside, join(root, "out-link"));
symlinkSync(join(root, "real"), join(root, "in-link"));
symlinkSync(root2, join(root, "to-root2"));
symlinkSync(root, join(base, "root-link"));
after(() => rmSync(base, { recursive: true, force: true }));

/** resolveOutput throws a DataError on field "output" whose message matches `message`. */
function refused(output: unknown, roots: readonly string[], message: RegExp): void {
  assert.throws(
    () => resolveOutput(output, roots),
    (err: unknown) => {
      assert.ok(err instanceof DataError, `a DataError for ${JSON.stringify(output)}, got ${String(err)}`);
      assert.equal(err.field, "output");
      assert.match(err.message, message);
      return true;
    },
  );
}

test("an output that is not a non-blank string is refused", () => {
  for (const output of [undefined, null, 42, {}, ["a"], "", "   ", "\t \n"]) {
    refused(output, [root], /^'output' must be a directory path or s3:\/\/bucket\/prefix$/);
  }
});

test("control characters are refused, local or s3", () => {
  for (const output of ["a\nb", "a\u0000", "run\u001f1", "x\u007f", "s3://bucket/a\rb", "\ta"]) {
    refused(output, [root, "s3://bucket"], /^'output' contains control characters$/);
  }
});

test("'..' segments are refused with either separator, before anything else is looked at", () => {
  for (const output of ["..", "../x", "a/../b", "a\\..\\b", "a/..\\b", `${root}/../outside/x`, "s3://bucket/a/../b"]) {
    refused(output, [root, "s3://bucket"], /contains '\.\.': path traversal is refused$/);
  }
  // only a whole segment counts
  assert.equal(resolveOutput("a..b", [root]).uri, join(root, "a..b"));
  assert.equal(resolveOutput("...", [root]).uri, join(root, "..."));
});

test("s3 outputs need a valid bucket and a prefix without empty or '.' segments", () => {
  for (const output of ["s3://bucket", "s3://bucket/", "s3://bucket///"]) {
    refused(output, ["s3://bucket"], /needs a prefix inside the bucket \(s3:\/\/bucket\/name\)$/);
  }
  for (const output of ["s3://Bucket/x", "s3://ab/x", "s3:///x", "s3://-bucket/x", "s3://bu_cket/x"]) {
    refused(output, ["s3://bucket"], /^'output' s3:\/\/.* is not a valid bucket name$/);
  }
  for (const output of ["s3://bucket//x", "s3://bucket/a//b", "s3://bucket/./x", "s3://bucket/a/."]) {
    refused(output, ["s3://bucket"], /has an empty, '\.' or '\.\.' segment$/);
  }
});

test("s3 outputs inside a root are accepted, trailing slashes dropped", () => {
  assert.deepEqual(resolveOutput("s3://bucket/any/deep/run", [root, "s3://bucket"]), {
    kind: "s3",
    bucket: "bucket",
    prefix: "any/deep/run",
    uri: "s3://bucket/any/deep/run",
  });
  for (const r of ["s3://bucket/team", "s3://bucket/team/"]) {
    assert.deepEqual(resolveOutput("s3://bucket/team/run1/", ["s3://other", r]), {
      kind: "s3",
      bucket: "bucket",
      prefix: "team/run1",
      uri: "s3://bucket/team/run1",
    });
  }
});

test("s3 outputs outside every S3 root are refused: other bucket, sibling prefix, the root itself", () => {
  const roots = ["s3://bucket/team", root];
  const outsideMsg =
    /is outside the allowed export roots \(s3:\/\/bucket\/team\); add the bucket to MEVLAB_EXPORT_ROOTS$/;
  refused("s3://other/team/x", roots, outsideMsg);
  refused("s3://bucket/teamx/run", roots, outsideMsg); // prefix boundary: teamx is not inside team
  refused("s3://bucket/team", roots, outsideMsg); // strictly inside
  refused("s3://bucket/x", roots, outsideMsg);
  refused("s3://bucket/x", [root], /outside the allowed export roots \(no S3 roots\)/);
  refused("s3://bucket/x", [], /\(no S3 roots\)/);
});

test("an invalid S3 root is refused whatever the output", () => {
  refused("s3://bucket/x", ["s3://Bad_Root"], /^allowed root s3:\/\/Bad_Root: "Bad_Root" is not a valid bucket name$/);
  refused("run1", [root, "s3://bucket//p"], /^allowed root s3:\/\/bucket\/\/p has an empty/);
});

test("URL schemes other than s3:// are refused", () => {
  for (const output of ["http://host/x", "file:///tmp/x", "gs://bucket/x", "S3://bucket/x", "s3a://bucket/x"]) {
    refused(output, [root, "s3://bucket"], /: only local directories and s3:\/\/ are supported$/);
  }
});

test("a local output needs a local root", () => {
  for (const output of ["run1", join(root, "run1")]) {
    refused(output, ["s3://bucket"], /^no local export roots are allowed here; use an s3:\/\/ output$/);
    refused(output, [], /^no local export roots are allowed here/);
  }
});

test("relative outputs resolve under the first local root", () => {
  const roots = ["s3://bucket", root, root2];
  assert.deepEqual(resolveOutput("run1", roots), { kind: "local", dir: join(root, "run1"), uri: join(root, "run1") });
  assert.equal(resolveOutput("./a/b/c/", roots).uri, join(root, "a", "b", "c"));
  assert.equal(resolveOutput("run1", [root2, root]).uri, join(root2, "run1"));
  // a relative root is taken from the current directory
  assert.equal(resolveOutput("run1", [".", root]).uri, join(realpathSync(process.cwd()), "run1"));
});

test("absolute outputs must be strictly inside a root", () => {
  assert.equal(resolveOutput(join(root2, "run"), [root, root2]).uri, join(root2, "run"));
  assert.equal(resolveOutput(join(root, "a", "b"), [root]).uri, join(root, "a", "b"));
  const outsideMsg = (dir: string) =>
    new RegExp(`^'output' ${dir} is outside the allowed export roots \\(${root}\\); see MEVLAB_EXPORT_ROOTS$`);
  refused(join(outside, "run"), [root], outsideMsg(join(outside, "run")));
  refused(join(root2, "run"), [root], outsideMsg(join(root2, "run"))); // /x/root2 is not inside /x/root
  refused(root, [root], outsideMsg(root)); // the root itself
  refused(".", [root], outsideMsg(root));
  refused(`${root}/`, [root], outsideMsg(root));
  assert.equal(resolveOutput(join(root, "x"), ["/"]).uri, join(root, "x"));
});

test("an existing output must be an empty directory", () => {
  mkdirSync(join(root, "empty"));
  assert.equal(resolveOutput("empty", [root]).uri, join(root, "empty"));
  refused("full", [root], /^'output' \S+\/full already exists and is not empty; exports never overwrite$/);
  refused("afile", [root], /^'output' \S+\/afile exists and is not a directory$/);
});

test("symbolic links are resolved: one leading outside every root is refused", () => {
  refused("out-link/run", [root], new RegExp(`^'output' ${join(outside, "run")} is outside the allowed export roots`));
  refused("out-link", [root], new RegExp(`^'output' ${outside} is outside`));
  refused(join(root, "out-link", "a", "b"), [root], /is outside the allowed export roots/);
  // a link to another allowed root, or within the root, is fine, and the real path is returned
  assert.equal(resolveOutput("to-root2/run", [root, root2]).uri, join(root2, "run"));
  refused("to-root2/run", [root], /is outside the allowed export roots/);
  assert.equal(resolveOutput("in-link/run", [root]).uri, join(root, "real", "run"));
});

test("a root given through a link is compared by its real path", () => {
  const linked = join(base, "root-link");
  assert.equal(resolveOutput("run", [linked]).uri, join(root, "run"));
  assert.equal(resolveOutput(join(linked, "run"), [root]).uri, join(root, "run"));
  assert.equal(resolveOutput(join(root, "run"), [linked]).uri, join(root, "run"));
});

test("defaultExportRoots reads MEVLAB_EXPORT_ROOTS (comma-separated) or falls back to the current directory", () => {
  const saved = process.env.MEVLAB_EXPORT_ROOTS;
  try {
    process.env.MEVLAB_EXPORT_ROOTS = ` ${root} ,, s3://bucket/p ,`;
    assert.deepEqual(defaultExportRoots(), [root, "s3://bucket/p"]);
    assert.equal(resolveOutput("run").uri, join(root, "run"));
    process.env.MEVLAB_EXPORT_ROOTS = " , ";
    assert.deepEqual(defaultExportRoots(), [process.cwd()]);
    delete process.env.MEVLAB_EXPORT_ROOTS;
    assert.deepEqual(defaultExportRoots(), [process.cwd()]);
  } finally {
    if (saved === undefined) delete process.env.MEVLAB_EXPORT_ROOTS;
    else process.env.MEVLAB_EXPORT_ROOTS = saved;
  }
});

test("validateExport checks the spec's fields before the output", () => {
  const spec = { types: ["arb", "outcomes"], from: "2024-01-01", to: "2024-01-02", output: "ds" };
  assert.equal(validateExport(spec, [root]), join(root, "ds"));
  const cases: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ outptu: "x" }, "outptu", /^unknown export field 'outptu'/],
    [{ format: "csv" }, "format", /^'format' must be one of parquet, jsonl, not "csv"$/],
    [{ compression: "lz4" }, "compression", /^'compression' must be one of zstd, gzip, none, not "lz4"$/],
    [{ types: [] }, "types", /^'types' must be a non-empty list of streams/],
    [{ types: ["trades"] }, "types", /^unknown type "trades" in 'types'/],
    [{ types: ["toString"] }, "types", /^unknown type "toString" in 'types'/],
    [{ types: ["outcomes"], dex: ["orca"] }, "dex", /and 'types' has neither$/],
    [{ from: "2024-01-03" }, "from", /must be before 'to'/],
    [{ output: "../ds" }, "output", /path traversal is refused/],
  ];
  for (const [change, field, message] of cases) {
    assert.throws(
      () => validateExport({ ...spec, ...change } as never, [root]),
      (err: unknown) => err instanceof DataError && err.field === field && message.test(err.message),
      JSON.stringify(change),
    );
  }
});
