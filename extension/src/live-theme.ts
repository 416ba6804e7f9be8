import { DataGrid, TextRenderer } from "@lumino/datagrid";

/** Reads JupyterLab's CSS variables as they apply to `node` now: a variable's value, or `fallback` when unset. */
export function themeColours(node: Element = document.body): (name: string, fallback: string) => string {
  const css = getComputedStyle(node);
  return (name, fallback) => css.getPropertyValue(name).trim() || fallback;
}

/**
 * Paints a DataGrid (a canvas, which CSS does not reach) in JupyterLab's theme colours, read from its
 * CSS variables now and again at each theme change (the body's data-jp-theme-light). Returns the
 * function that stops following the theme.
 */
export function followTheme(grid: DataGrid): () => void {
  const apply = (): void => {
    const v = themeColours();
    const background = v("--jp-layout-color0", "#ffffff");
    const stripe = v("--jp-layout-color1", background);
    grid.style = {
      ...DataGrid.defaultStyle,
      voidColor: background,
      backgroundColor: background,
      rowBackgroundColor: (i) => (i % 2 === 1 ? stripe : background),
      gridLineColor: v("--jp-border-color3", "rgba(20, 20, 20, 0.15)"),
      headerBackgroundColor: v("--jp-layout-color2", "#f3f3f3"),
      headerGridLineColor: v("--jp-border-color2", "rgba(20, 20, 20, 0.25)"),
      selectionFillColor: v("--jp-brand-color3", "rgba(49, 119, 180, 0.2)"),
    };
    const font = `${v("--jp-ui-font-size1", "13px")} ${v("--jp-ui-font-family", "sans-serif")}`;
    const textColor = v("--jp-ui-font-color1", "#000000");
    grid.cellRenderers.update({
      body: new TextRenderer({ font, textColor }),
      "column-header": new TextRenderer({ font: `bold ${font}`, textColor }),
      "row-header": new TextRenderer({ font, textColor: v("--jp-ui-font-color2", textColor) }),
      "corner-header": new TextRenderer({ font, textColor }),
    });
  };
  apply();
  const observer = new MutationObserver(apply);
  observer.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-light", "data-jp-theme-name"] });
  return () => observer.disconnect();
}
