/**
 * "Open in notebook": its arguments checked, and the helper-library cell that slices exactly what a
 * live-stream tab shows. Pure and import-free, so a plain Node test runs it from the compiled lib.
 */

/** What a live-stream tab shows: its module, its filters, and the time range of its rows. */
export interface OpenInNotebookArgs {
  module: "arbitrage" | "mev";
  /** DEX names (case-insensitive); empty: every DEX. */
  dexes: string[];
  /** Only opportunities with net SOL at least this; null: no minimum. */
  minNetSol: number | null;
  /** Unix ms, inclusive. */
  from: number;
  /** Unix ms, exclusive. */
  to: number;
}

const FIELDS = ["module", "dexes", "minNetSol", "from", "to"];

/** A bad argument of the command, with the message a user reads. */
export class OpenInNotebookArgsError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = "OpenInNotebookArgsError";
  }
}

/** Checks the command's arguments; throws an OpenInNotebookArgsError that names the bad one. */
export function parseOpenInNotebookArgs(args: unknown): OpenInNotebookArgs {
  if (!args || typeof args !== "object" || Array.isArray(args)) {
    throw new OpenInNotebookArgsError(`needs { ${FIELDS.join(", ")} }, not ${show(args)}`, "args");
  }
  const a = args as Record<string, unknown>;
  for (const k of Object.keys(a)) {
    if (!FIELDS.includes(k))
      throw new OpenInNotebookArgsError(`unknown argument '${k}' (known: ${FIELDS.join(", ")})`, k);
  }
  if (a.module !== "arbitrage" && a.module !== "mev") {
    throw new OpenInNotebookArgsError(`'module' must be "arbitrage" or "mev", not ${show(a.module)}`, "module");
  }
  const dexes = a.dexes;
  if (!Array.isArray(dexes) || !dexes.every((d) => typeof d === "string" && d.trim() !== "")) {
    throw new OpenInNotebookArgsError(
      `'dexes' must be a list of DEX names ([] for every DEX), not ${show(dexes)}`,
      "dexes",
    );
  }
  const min = a.minNetSol;
  if (min !== null && (typeof min !== "number" || !Number.isFinite(min))) {
    throw new OpenInNotebookArgsError(`'minNetSol' must be a number or null, not ${show(min)}`, "minNetSol");
  }
  const from = unixMs(a.from, "from");
  const to = unixMs(a.to, "to");
  if (from >= to) {
    throw new OpenInNotebookArgsError(
      `'from' (${iso(from)}) must be before 'to' (${iso(to)}): is there a row shown?`,
      "from",
    );
  }
  return { module: a.module, dexes: dexes.map((d: string) => d.trim().toLowerCase()), minNetSol: min, from, to };
}

/** The variable the cell fills: not `module` (tslab's CommonJS has one), and per module. */
export function sliceVariable(module: OpenInNotebookArgs["module"]): string {
  return module === "arbitrage" ? "shownArb" : "shownMev";
}

/**
 * The cell: a slice of the event store with the tab's module, DEX and min-net-SOL filters over the
 * time range of its rows, then a line with the count and the oldest and newest ids. The slice's
 * filters are the control plane's stream filters (an arbitrage route with a hop on one of the DEXes,
 * an MEV opportunity on one; net SOL >= the minimum). Every value is written as a literal: the cell
 * refers to nothing from earlier cells.
 */
export function sliceCellSource(args: OpenInNotebookArgs): string {
  const name = sliceVariable(args.module);
  const ids = `${name}Ids`;
  const filters = [
    args.dexes.length ? `DEX ${args.dexes.map((d) => JSON.stringify(d)).join(" or ")}` : "every DEX",
    args.minNetSol === null ? "any net SOL" : `net SOL >= ${String(args.minNetSol)}`,
  ];
  const spec = [
    `  stream: ${JSON.stringify(args.module === "arbitrage" ? "arb" : "mev")},`,
    `  from: ${args.from}, // ${iso(args.from)}`,
    `  to: ${args.to}, // ${iso(args.to)} (exclusive)`,
  ];
  if (args.dexes.length) spec.push(`  dex: [${args.dexes.map((d) => JSON.stringify(d)).join(", ")}],`);
  if (args.minNetSol !== null) spec.push(`  where: { net_sol: { gte: ${String(args.minNetSol)} } },`);
  return [
    `// The ${args.module} opportunities the mevlab live stream showed: ${filters.join(", ")},`,
    `// from ${iso(args.from)} to ${iso(args.to)}.`,
    "// From ClickHouse when CLICKHOUSE_URL is set, else the local store (MEVLAB_DATA_DIR), written every few seconds.",
    'import { columnValues, dataSource } from "@mevlab/kernel-helpers";',
    "",
    `const ${name} = await dataSource().slice({`,
    ...spec,
    "});",
    `const ${ids} = columnValues(${name}, "id");`,
    "console.log(",
    `  \`${args.module}: \${${name}.numRows} rows\` +`,
    `    (${name}.numRows ? \`, oldest \${${ids}[0]}, newest \${${ids}[${ids}.length - 1]}\` : ""),`,
    ");",
  ].join("\n");
}

function unixMs(v: unknown, field: string): number {
  // The event store's dates end at 8.64e15 ms (the largest JavaScript Date).
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > 8.64e15) {
    throw new OpenInNotebookArgsError(`'${field}' must be unix milliseconds (an integer >= 0), not ${show(v)}`, field);
  }
  return v;
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function show(v: unknown): string {
  if (v === undefined) return "nothing";
  try {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}
