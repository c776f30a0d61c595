/**
 * The MIME renderer for labnote's payloads in cell outputs. JupyterLab calls `renderModel` again
 * on the same renderer for each `update_display_data`, so the view is kept and patched.
 * A payload that does not decode shows a one-line note and the bundle's plain-text fallback.
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import { RunCard, type ArtifactHandler } from "./card";
import { h } from "./dom";
import { hasDied, runsDied } from "./died";
import { decode, type Payload } from "./protocol";
import { ProgressView, TableView } from "./widgets";

type View = { kind: "run"; view: RunCard } | { kind: "progress"; view: ProgressView } | { kind: "table"; view: TableView };

/** Renders one labnote MIME type. */
export class LabnoteRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this._resolver = options.resolver;
    this._linkHandler = options.linkHandler;
    this.addClass("jp-labnote-output");
    runsDied.connect(this._onRunsDied, this);
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const raw = model.data[this._mimeType];
    const decoded = decode(this._mimeType, typeof raw === "string" ? Private.parse(raw) : raw);
    if (!decoded.ok) {
      this._showFallback(decoded.reason, model);
      return Promise.resolve();
    }
    this._show(decoded.payload);
    return Promise.resolve();
  }

  protected override onBeforeDetach(): void {
    // Nothing to unhook: charts follow their own host size and stop when disposed.
  }

  override dispose(): void {
    if (this.isDisposed) return;
    runsDied.disconnect(this._onRunsDied, this);
    this._clear();
    super.dispose();
  }

  private _show(p: Payload): void {
    if (this._view?.kind !== p.kind) {
      this._clear();
      switch (p.kind) {
        case "run":
          this._view = { kind: "run", view: new RunCard({ artifacts: this._artifactHandler() }) };
          break;
        case "progress":
          this._view = { kind: "progress", view: new ProgressView() };
          break;
        case "table":
          this._view = { kind: "table", view: new TableView() };
          break;
      }
      this.node.replaceChildren(this._view.view.node);
    }
    switch (this._view.kind) {
      case "run": {
        const run = p as Extract<Payload, { kind: "run" }>;
        this._view.view.update(run, run.status === "running" && hasDied(run.id) ? "died" : undefined);
        break;
      }
      case "progress":
        this._view.view.update(p as Extract<Payload, { kind: "progress" }>);
        break;
      case "table":
        this._view.view.update(p as Extract<Payload, { kind: "table" }>);
        break;
    }
  }

  private _onRunsDied(_: object, ids: string[]): void {
    if (this._view?.kind !== "run") return;
    const p = this._view.view.payload;
    if (p && p.status === "running" && ids.includes(p.id)) this._view.view.update(p, "died");
  }

  private _showFallback(reason: string, model: IRenderMime.IMimeModel): void {
    this._clear();
    const text = model.data["text/plain"];
    this.node.replaceChildren(
      h("div", { class: "jp-labnote-note", text: `labnote could not show this output: ${reason}` }),
      h("pre", { class: "jp-labnote-fallback", text: typeof text === "string" ? text : Array.isArray(text) ? text.join("") : "" }),
    );
  }

  private _clear(): void {
    if (this._view?.kind === "run") this._view.view.dispose();
    this._view = undefined;
    this.node.textContent = "";
  }

  private _artifactHandler(): ArtifactHandler | undefined {
    const resolver = this._resolver;
    const linkHandler = this._linkHandler;
    if (!resolver) return undefined;
    return {
      link(anchor, artifact) {
        void (async () => {
          try {
            const path = await resolver.resolveUrl(artifact.path);
            anchor.href = await resolver.getDownloadUrl(path);
            anchor.target = "_blank";
            anchor.rel = "noopener";
            linkHandler?.handleLink(anchor, path, "");
          } catch {
            anchor.removeAttribute("href");
          }
        })();
      },
      preview(img, artifact) {
        void (async () => {
          try {
            img.src = await resolver.getDownloadUrl(await resolver.resolveUrl(artifact.path));
          } catch {
            img.remove();
          }
        })();
      },
    };
  }

  private _mimeType: string;
  private _resolver: IRenderMime.IResolver | null | undefined;
  private _linkHandler: IRenderMime.ILinkHandler | null | undefined;
  private _view: View | undefined;
}

namespace Private {
  /** Some kernels send JSON MIME data as text; accept it, never evaluate it. */
  export function parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
}
