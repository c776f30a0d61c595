/**
 * Chart colours from JupyterLab's CSS variables, so charts follow the light and the dark theme.
 */

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.body).getPropertyValue(name).trim();
  return v || fallback;
}

/** A qualitative palette readable on both themes (runs in compare charts, metrics in a card). */
export const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

/** The colour of the marks for NaN and ±Infinity points: red, apart from every palette colour. */
export const NONFINITE_COLOR = "#e8112d";

/** The Vega config for the current theme. */
export function vegaConfig(): Record<string, unknown> {
  const fg = cssVar("--jp-ui-font-color2", "#616161");
  const fg1 = cssVar("--jp-ui-font-color1", "#212121");
  const grid = cssVar("--jp-border-color2", "#e0e0e0");
  const domain = cssVar("--jp-border-color1", "#bdbdbd");
  const font = cssVar("--jp-ui-font-family", "sans-serif");
  return {
    background: null,
    font,
    view: { stroke: null },
    axis: {
      labelColor: fg,
      titleColor: fg,
      gridColor: grid,
      gridOpacity: 0.8,
      domainColor: domain,
      tickColor: domain,
      labelFontSize: 10,
      titleFontSize: 10,
      labelFont: font,
      titleFont: font,
      titleFontWeight: "normal",
    },
    legend: { labelColor: fg1, titleColor: fg, labelFont: font, labelFontSize: 10, symbolType: "stroke", orient: "bottom", direction: "horizontal", columns: 3, labelLimit: 160 },
    range: { category: PALETTE },
  };
}

/**
 * Call `cb` whenever JupyterLab switches theme (it flips attributes on <body>).
 * Returns a function that stops listening.
 */
export function onThemeChange(cb: () => void): () => void {
  const obs = new MutationObserver(() => cb());
  obs.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-name", "data-jp-theme-light"] });
  return () => obs.disconnect();
}
