import type { DataGrid } from "@lumino/datagrid";

/** The parts of Lumino's DataGrid (2.x) that `batchCellBlits` wraps; private there, so checked at runtime. */
interface GridInternals {
  _buffer: HTMLCanvasElement;
  _drawCells(region: unknown): void;
  _blitContent(source: HTMLCanvasElement, x: number, y: number, w: number, h: number, dx: number, dy: number): void;
}

/**
 * Makes the grid copy each painted region from its off-screen buffer to the screen once, instead of
 * once per cell. Lumino paints every cell into the buffer and copies that cell's rectangle to the
 * screen at once; where the canvas has no GPU, each copy snapshots the whole buffer (1536×1024 px,
 * 6 MB here), so a full repaint of ~300 cells took 1.5 s in headless Chromium (one copy: 4 ms).
 * The cells of a region tile its bounding box, so one copy of the box draws the same pixels.
 * Returns false, leaving the grid as it is, when this Lumino has no such internals.
 */
export function batchCellBlits(grid: DataGrid): boolean {
  const g = grid as unknown as Partial<GridInternals>;
  const { _drawCells: drawCells, _blitContent: blit } = g;
  if (typeof drawCells !== "function" || typeof blit !== "function" || drawCells.length !== 1) return false;
  // The bounding box of the cell copies held back while a region's cells are drawn.
  const box = { collecting: false, x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
  g._blitContent = function (this: GridInternals, source, x, y, w, h, dx, dy) {
    if (!box.collecting || source !== this._buffer || x !== dx || y !== dy) {
      blit.call(this, source, x, y, w, h, dx, dy);
      return;
    }
    box.x1 = Math.min(box.x1, x);
    box.y1 = Math.min(box.y1, y);
    box.x2 = Math.max(box.x2, x + w);
    box.y2 = Math.max(box.y2, y + h);
  };
  g._drawCells = function (this: GridInternals, region) {
    Object.assign(box, { collecting: true, x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity });
    try {
      drawCells.call(this, region);
    } finally {
      box.collecting = false;
    }
    if (box.x2 > box.x1 && box.y2 > box.y1) {
      blit.call(this, this._buffer, box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1, box.x1, box.y1);
    }
  };
  return true;
}
