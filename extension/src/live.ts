import { DataGrid, DataModel } from "@lumino/datagrid";
import type { ArbOpportunity, Event, MevOpportunity } from "@mevlab/proto";

interface Column {
  title: string;
  width: number;
  get(row: Row): string;
}

interface Row {
  module: "arbitrage" | "mev";
  opp: ArbOpportunity | MevOpportunity;
}

const COLUMNS: Column[] = [
  { title: "Time", width: 96, get: (r) => new Date(Number(r.opp.ts)).toLocaleTimeString() },
  { title: "Module", width: 80, get: (r) => r.module },
  { title: "Slot", width: 100, get: (r) => r.opp.slot.toString() },
  {
    title: "DEX / route",
    width: 150,
    get: (r) => ("route" in r.opp ? r.opp.route.map((h) => h.dex).join(" → ") : r.opp.dex),
  },
  { title: "Net SOL", width: 90, get: (r) => (r.opp.profit?.netSol ?? 0).toFixed(6) },
  { title: "Net lamports", width: 110, get: (r) => (r.opp.profit?.netLamports ?? 0n).toString() },
  { title: "p_land", width: 70, get: (r) => (r.opp.decisionMeta?.pLandEst ?? 0).toFixed(2) },
  { title: "Tip lamports", width: 100, get: (r) => (r.opp.decisionMeta?.tipPolicy?.tipLamports ?? 0n).toString() },
  { title: "Accepted", width: 80, get: (r) => (r.opp.decisionMeta?.accepted ? "yes" : "no") },
  {
    title: "Landed",
    width: 70,
    get: (r) => (r.opp.outcome ? (r.opp.outcome.landed ? "landed" : "missed") : ""),
  },
  { title: "Id", width: 160, get: (r) => r.opp.id },
];

/** The newest opportunities first, at most `maxRows`. */
export class OpportunityModel extends DataModel {
  private rows: Row[] = [];
  /** Emit time (ms) of the oldest row added since the last `refresh`. */
  private oldestNewTs = Infinity;

  constructor(private maxRows: number) {
    super();
  }

  setMaxRows(n: number): void {
    this.maxRows = n;
  }

  get size(): number {
    return this.rows.length;
  }

  /** Adds the opportunities among `events`; true when any was added. */
  add(events: readonly Event[]): boolean {
    const fresh: Row[] = [];
    for (const ev of events) {
      if (ev.payload.case === "arbOpportunity") fresh.push({ module: "arbitrage", opp: ev.payload.value });
      else if (ev.payload.case === "mevOpportunity") fresh.push({ module: "mev", opp: ev.payload.value });
    }
    if (fresh.length === 0) return false;
    for (const r of fresh) this.oldestNewTs = Math.min(this.oldestNewTs, Number(r.opp.ts));
    fresh.reverse();
    this.rows = fresh.concat(this.rows).slice(0, this.maxRows);
    return true;
  }

  /** Tells the grid to redraw; called at most once per animation frame. */
  refresh(): void {
    this.emitChanged({ type: "model-reset" });
  }

  /** The emit times (ms) of the newest row and of the oldest row drawn for the first time; then forgets the latter. */
  takePainted(): { newestTs: number; oldestNewTs: number } {
    const painted = { newestTs: this.rows.length ? Number(this.rows[0].opp.ts) : 0, oldestNewTs: this.oldestNewTs };
    this.oldestNewTs = Infinity;
    return painted;
  }

  rowCount(region: DataModel.RowRegion): number {
    return region === "body" ? this.rows.length : 1;
  }

  columnCount(region: DataModel.ColumnRegion): number {
    return region === "body" ? COLUMNS.length : 1;
  }

  data(region: DataModel.CellRegion, row: number, column: number): string {
    if (region === "column-header") return COLUMNS[column].title;
    if (region === "row-header") return String(row + 1);
    if (region === "corner-header") return "#";
    const r = this.rows[row];
    return r ? COLUMNS[column].get(r) : "";
  }
}

export function createGrid(model: OpportunityModel): DataGrid {
  const grid = new DataGrid({
    defaultSizes: { rowHeight: 22, columnWidth: 100, rowHeaderWidth: 56, columnHeaderHeight: 24 },
  });
  grid.dataModel = model;
  grid.addClass("mevlab-grid");
  COLUMNS.forEach((c, i) => grid.resizeColumn("body", i, c.width));
  return grid;
}
