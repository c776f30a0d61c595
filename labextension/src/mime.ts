import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import { decode, MIME } from "./protocol";

class Minimal extends Widget implements IRenderMime.IRenderer {
  constructor(private mime: string) {
    super();
    this.addClass("jp-labnote-card");
  }
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const d = decode(this.mime, model.data[this.mime]);
    this.node.textContent = d.ok ? `labnote ${d.payload.kind}` : `labnote: ${d.reason}`;
  }
}

const extension: IRenderMime.IExtension = {
  id: "labnote:renderer",
  rendererFactory: { safe: true, mimeTypes: [MIME.run, MIME.progress, MIME.table], createRenderer: (o) => new Minimal(o.mimeType) },
  rank: 10,
  dataType: "json",
};
export default extension;
