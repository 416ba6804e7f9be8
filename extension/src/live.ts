import { DataGrid, DataModel } from "@lumino/datagrid";
import type { Event } from "@mevlab/proto";
import { batchCellBlits } from "./grid-paint";
import { OpportunityRing } from "./live-rows";

const COLUMNS: { title: string; width: number; text: keyof OpportunityRing["text"] }[] = [
  { title: "Time", width: 96, text: "time" },
  { title: "Module", width: 80, text: "module" },
  { title: "Slot", width: 100, text: "slot" },
  { title: "DEX / route", width: 150, text: "route" },
  { title: "Net SOL", width: 90, text: "netSol" },
  { title: "Net lamports", width: 110, text: "netLamports" },
  { title: "p_land", width: 70, text: "pLand" },
  { title: "Tip lamports", width: 100, text: "tipLamports" },
  { title: "Accepted", width: 80, text: "accepted" },
  { title: "Landed", width: 70, text: "landed" },
  { title: "Id", width: 160, text: "id" },
];

/** How often, at most, the grid learns that the row count grew (ms). */
const COUNT_EVERY_MS = 250;

/** Formatted rows kept: more than any viewport shows, so a repaint formats only the rows new to it. */
const CACHED_ROWS = 1024;

/**
 * The newest opportunities first, at most `maxRows`. `add` buffers (O(batch)); the grid learns of the
 * new rows at `flush`, once per frame, through the cheapest exact change signal, and until then reads
 * the rows as they were at the last flush.
 */
export class OpportunityModel extends DataModel {
  private readonly ring: OpportunityRing;
  /** Serial number of row 0 as the grid knows it, and the row count it was told. */
  private topSerial = -1;
  private shownRows = 0;
  private countShownAt = -Infinity;
  private resetDue = false;
  /** Emit time (ms) of the oldest row added since the last flush. */
  private oldestNewTs = Infinity;
  private readonly cachedSerial = new Float64Array(CACHED_ROWS).fill(-1);
  private readonly cachedText: (string | undefined)[] = new Array(CACHED_ROWS * COLUMNS.length);

  constructor(maxRows: number) {
    super();
    this.ring = new OpportunityRing(maxRows);
  }

  setMaxRows(n: number): void {
    this.ring.resize(n);
    this.resetDue = true;
  }

  /** Rows the grid shows (as of the last flush). */
  get size(): number {
    return this.shownRows;
  }

  /** Emit time (ms) of the newest row shown, 0 when none. */
  get newestTs(): number {
    const i = this.ring.indexOfSerial(this.topSerial);
    return i < 0 ? 0 : this.ring.tsAt(i);
  }

  /** Buffers the opportunities among `events`; true when any was added. */
  add(events: readonly Event[]): boolean {
    const before = this.ring.pushed;
    for (const ev of events) {
      const p = ev.payload;
      if (p.case !== "arbOpportunity" && p.case !== "mevOpportunity") continue;
      this.ring.push(p.case === "arbOpportunity" ? "arbitrage" : "mev", p.value);
      this.oldestNewTs = Math.min(this.oldestNewTs, Number(p.value.ts));
    }
    return this.ring.pushed > before;
  }

  /**
   * Tells the grid what changed since the last flush and returns the emit time of the oldest row new to
   * it (Infinity when none). New rows shift the shown ones down: a cells-changed repaints the body only.
   * A change of the row count repaints the whole grid (headers too), so it is told at most every
   * COUNT_EVERY_MS while the table fills; until then the oldest rows wait below the last one shown.
   */
  flush(now: number): number {
    const fresh = this.ring.pushed - 1 - this.topSerial;
    const oldestNewTs = this.oldestNewTs;
    this.oldestNewTs = Infinity;
    if (fresh === 0 && !this.resetDue) return Infinity;
    const before = this.shownRows;
    const after = this.ring.size;
    this.topSerial = this.ring.pushed - 1;
    if (this.resetDue || fresh >= after) {
      this.resetDue = false;
      this.shownRows = after;
      this.countShownAt = now;
      this.emitChanged({ type: "model-reset" });
      return oldestNewTs;
    }
    if (after > before && now - this.countShownAt >= COUNT_EVERY_MS) {
      this.shownRows = after;
      this.countShownAt = now;
      this.emitChanged({ type: "rows-inserted", region: "body", index: before, span: after - before });
    }
    const columnSpan = COLUMNS.length;
    this.emitChanged({ type: "cells-changed", region: "body", row: 0, column: 0, rowSpan: before, columnSpan });
    return oldestNewTs;
  }

  rowCount(region: DataModel.RowRegion): number {
    return region === "body" ? this.shownRows : 1;
  }

  columnCount(region: DataModel.ColumnRegion): number {
    return region === "body" ? COLUMNS.length : 1;
  }

  data(region: DataModel.CellRegion, row: number, column: number): string {
    if (region === "column-header") return COLUMNS[column].title;
    if (region === "row-header") return String(row + 1);
    if (region === "corner-header") return "#";
    return this.cell(this.topSerial - row, column);
  }

  /** The text of one cell, formatted once per row and column while the row stays among the cached ones. */
  private cell(serial: number, column: number): string {
    const i = this.ring.indexOfSerial(serial);
    if (i < 0) return "";
    const slot = serial % CACHED_ROWS;
    const at = slot * COLUMNS.length;
    if (this.cachedSerial[slot] !== serial) {
      this.cachedSerial[slot] = serial;
      this.cachedText.fill(undefined, at, at + COLUMNS.length);
    }
    return (this.cachedText[at + column] ??= this.ring.text[COLUMNS[column].text](i));
  }
}

export function createGrid(model: OpportunityModel): DataGrid {
  const grid = new DataGrid({
    defaultSizes: { rowHeight: 22, columnWidth: 100, rowHeaderWidth: 56, columnHeaderHeight: 24 },
  });
  batchCellBlits(grid);
  grid.dataModel = model;
  grid.addClass("mevlab-grid");
  COLUMNS.forEach((c, i) => grid.resizeColumn("body", i, c.width));
  return grid;
}
