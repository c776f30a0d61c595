/** The `labnote-jupyterlab:renderer` MIME extension: run cards, progress bars, tables and sweep cards in cell outputs. */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { MIME, SWEEP_MIME } from "./protocol";
import { LabnoteRenderer } from "./renderer";

/** Renders labnote's MIME types; ranked ahead of the HTML and Vega-Lite fallbacks in the bundle. */
export const rendererFactory: IRenderMime.IRendererFactory = {
  safe: true,
  mimeTypes: [MIME.run, MIME.progress, MIME.table, SWEEP_MIME],
  defaultRank: 20,
  createRenderer: (options) => new LabnoteRenderer(options),
};

const extension: IRenderMime.IExtension = {
  id: "labnote-jupyterlab:renderer",
  description: "Renders labnote run cards, progress bars and tables in cell outputs.",
  rendererFactory,
  rank: 20,
  dataType: "json",
};

export default extension;
