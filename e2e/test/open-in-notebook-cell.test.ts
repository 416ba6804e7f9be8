// "Open in notebook"'s cell, from the compiled extension: its arguments checked with a message that
// names the bad one, and the cell's source compiled as tslab compiles it and run against a recording
// data source: the slice it asks for is the tab's module, filters and time range, valid for the
// helper library's planner, and it refers to nothing from earlier cells.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { planSlice, type SliceSpec } from "@mevlab/kernel-helpers";
import { ROOT } from "../src/stack";

interface Args {
  module: "arbitrage" | "mev";
  dexes: string[];
  minNetSol: number | null;
  from: number;
  to: number;
}
interface CellModule {
  parseOpenInNotebookArgs(args: unknown): Args;
  sliceCellSource(args: Args): string;
  OpenInNotebookArgsError: new (...a: never[]) => Error & { field: string };
}

let cell: CellModule;

before(async () => {
  const file = join(ROOT, "extension", "lib", "open-in-notebook-cell.js");
  assert.ok(existsSync(file), `no ${file}: run scripts/build-extension.sh`);
  const source = readFileSync(file, "utf8");
  // The extension's lib is ES modules in a package without "type": "module": a data: URL is one.
  // Compiled to CommonJS, import() would become require(): a Function keeps it an import.
  const esm = new Function("url", "return import(url)") as (url: string) => Promise<CellModule>;
  cell = await esm(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);
});

const FROM = Date.UTC(2026, 10, 30, 7, 40);
const TO = FROM + 61_234;

/** Compiles the cell as tslab does (TypeScript to CommonJS) and runs it with a recording data source. */
async function runCell(source: string): Promise<{ specs: SliceSpec[]; lines: string[] }> {
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  assert.deepEqual(out.diagnostics ?? [], [], "the cell is valid TypeScript");
  const specs: SliceSpec[] = [];
  const lines: string[] = [];
  const ids = ["id-a", "id-b", "id-c"];
  const helpers = {
    dataSource: () => ({
      slice: async (spec: SliceSpec) => {
        specs.push(spec);
        return { numRows: ids.length, marker: "table" };
      },
    }),
    columnValues: (table: { marker: string }, name: string) => {
      assert.equal(table.marker, "table");
      assert.equal(name, "id");
      return ids;
    },
  };
  const requireStub = (name: string) => {
    assert.equal(name, "@mevlab/kernel-helpers", "the cell needs the helper library only");
    return helpers;
  };
  const consoleStub = { log: (...a: unknown[]) => lines.push(a.join(" ")) };
  // Strict mode and no access to this file's scope: a name from an earlier cell would throw.
  const run = new Function(
    "require",
    "exports",
    "console",
    `"use strict"; return (async () => {\n${out.outputText}\n})();`,
  ) as (r: typeof requireStub, e: object, c: typeof consoleStub) => Promise<void>;
  await run(requireStub, {}, consoleStub);
  return { specs, lines };
}

test("an arbitrage tab with DEX and min net SOL filters: the slice asks for exactly those", async () => {
  const args = cell.parseOpenInNotebookArgs({
    module: "arbitrage",
    dexes: ["Raydium", " orca "],
    minNetSol: 0.01,
    from: FROM,
    to: TO,
  });
  assert.deepEqual(args, { module: "arbitrage", dexes: ["raydium", "orca"], minNetSol: 0.01, from: FROM, to: TO });
  const source = cell.sliceCellSource(args);
  assert.doesNotMatch(source, /\bmodule\s*=|\b(const|let|var)\s+module\b/, "no variable named module");
  assert.match(source, /2026-11-30T07:40:00\.000Z/, "the range in words");
  const { specs, lines } = await runCell(source);
  assert.deepEqual(specs, [
    { stream: "arb", from: FROM, to: TO, dex: ["raydium", "orca"], where: { net_sol: { gte: 0.01 } } },
  ]);
  const plan = planSlice(specs[0]!);
  assert.equal(plan.table, "arb_opportunities");
  assert.deepEqual([plan.fromMs, plan.toMs], [FROM, TO]);
  assert.match(plan.duckdb(["x.parquet"]), /list_has_any\(string_split\(lower\(dexes\), ','\)/);
  assert.match(plan.duckdb(["x.parquet"]), /net_sol >= \$p1/);
  assert.deepEqual(lines, ["arbitrage: 3 rows, oldest id-a, newest id-c"]);
});

test("an MEV tab without filters: every DEX, any net SOL, the range alone", async () => {
  const source = cell.sliceCellSource(
    cell.parseOpenInNotebookArgs({ module: "mev", dexes: [], minNetSol: null, from: FROM, to: TO }),
  );
  const { specs, lines } = await runCell(source);
  assert.deepEqual(specs, [{ stream: "mev", from: FROM, to: TO }]);
  assert.equal(planSlice(specs[0]!).table, "mev_opportunities");
  assert.deepEqual(lines, ["mev: 3 rows, oldest id-a, newest id-c"]);
  assert.match(source, /every DEX, any net SOL/);
});

test("a negative or tiny minimum and odd DEX names stay literals of the same value", async () => {
  const dexes = ['a"b', "x\ny", "it's"];
  for (const minNetSol of [-0.5, 1e-9, 0]) {
    const args = cell.parseOpenInNotebookArgs({ module: "mev", dexes, minNetSol, from: FROM, to: TO });
    const { specs } = await runCell(cell.sliceCellSource(args));
    assert.deepEqual(specs[0]!.dex, ['a"b', "x\ny", "it's"]);
    assert.deepEqual(specs[0]!.where, { net_sol: { gte: minNetSol } });
  }
});

test("bad arguments: a message that names the argument, and no cell", () => {
  const good = { module: "mev", dexes: [], minNetSol: null, from: FROM, to: TO };
  const cases: Array<[unknown, string, RegExp]> = [
    [undefined, "args", /needs \{ module, dexes, minNetSol, from, to \}/],
    [[1], "args", /needs/],
    [{ ...good, module: "sandwich" }, "module", /'module' must be "arbitrage" or "mev", not "sandwich"/],
    [{ ...good, module: undefined }, "module", /not nothing/],
    [{ ...good, dexes: "raydium" }, "dexes", /'dexes' must be a list of DEX names/],
    [{ ...good, dexes: ["raydium", ""] }, "dexes", /list of DEX names/],
    [{ ...good, minNetSol: "0.1" }, "minNetSol", /'minNetSol' must be a number or null, not "0.1"/],
    [{ ...good, minNetSol: Number.NaN }, "minNetSol", /number or null/],
    [{ ...good, minNetSol: undefined }, "minNetSol", /number or null, not nothing/],
    [{ ...good, from: -1 }, "from", /'from' must be unix milliseconds/],
    [{ ...good, to: 1.5 }, "to", /'to' must be unix milliseconds/],
    [{ ...good, to: 9e15 }, "to", /unix milliseconds/],
    [{ ...good, to: FROM }, "from", /'from' \(2026-11-30T07:40:00\.000Z\) must be before 'to'/],
    [{ ...good, limit: 10 }, "limit", /unknown argument 'limit'/],
  ];
  for (const [args, field, message] of cases) {
    assert.throws(
      () => cell.parseOpenInNotebookArgs(args),
      (e: Error & { field?: string }) => {
        assert.ok(e instanceof cell.OpenInNotebookArgsError, `${String(e)}`);
        assert.equal(e.field, field, JSON.stringify(args));
        assert.match(e.message, message);
        return true;
      },
    );
  }
});
