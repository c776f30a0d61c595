/**
 * The MIME renderer for labnote's payloads in cell outputs. JupyterLab calls `renderModel` again
 * on the same renderer for each `update_display_data`, so the view is kept and patched. A run
 * card also follows its run through the run registry: updates reach it by run id even when the
 * output was restored from a saved notebook (restored outputs have no display id), and its
 * status is the one every screen shows.
 * A payload that does not decode shows a one-line note and the bundle's plain-text fallback.
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import { RunFollower } from "./model/follow";
import { runRegistry } from "./model/registry";
import { SWEEP_MIME, decode, decodeSweepPayload, type Payload, type RunPayload, type SweepPayload } from "./protocol";
import { artifactAction, downloadName } from "./views/artifacts";
import { RunCard, type ArtifactHandler } from "./views/card";
import { h } from "./views/dom";
import { ProgressView, TableView } from "./views/widgets";
import { SweepCardView } from "./views/sweep";

type View = { kind: "run"; view: RunCard; follower: RunFollower } | { kind: "progress"; view: ProgressView } | { kind: "table"; view: TableView } | { kind: "sweep"; view: SweepCardView };

/** Renders one labnote MIME type. */
export class LabnoteRenderer extends Widget implements IRenderMime.IRenderer {
  constructor(options: IRenderMime.IRendererOptions) {
    super();
    this._mimeType = options.mimeType;
    this._resolver = options.resolver;
    this._linkHandler = options.linkHandler;
    this.addClass("jp-labnote-output");
  }

  /** Show the model's payload (again, patched in place, for each update). */
  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    if (this._mimeType === SWEEP_MIME) {
      const sweep = decodeSweepPayload(model.data[SWEEP_MIME]);
      if (!sweep.ok) this._showFallback(sweep.reason, model);
      else this._showSweep(sweep.payload);
      return Promise.resolve();
    }
    const decoded = decode(this._mimeType, model.data[this._mimeType]);
    if (!decoded.ok) {
      this._showFallback(decoded.reason, model);
      return Promise.resolve();
    }
    this._show(decoded.payload);
    return Promise.resolve();
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this._clear();
    super.dispose();
  }

  private _show(p: Payload): void {
    if (this._view?.kind !== p.kind) {
      this._clear();
      switch (p.kind) {
        case "run": {
          const card = new RunCard({ artifacts: this._artifactHandler() });
          const follower = new RunFollower(runRegistry, (run) => card.update(run), (path) => this._resolve(path));
          this._view = { kind: "run", view: card, follower };
          break;
        }
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
      case "run":
        this._view.follower.take(p as RunPayload);
        break;
      case "progress":
        this._view.view.update(p as Extract<Payload, { kind: "progress" }>);
        break;
      case "table":
        this._view.view.update(p as Extract<Payload, { kind: "table" }>);
        break;
    }
  }

  /** A sweep card keeps its view (and the table's sort order) across updates. */
  private _showSweep(p: SweepPayload): void {
    if (this._view?.kind !== "sweep") {
      this._clear();
      this._view = { kind: "sweep", view: new SweepCardView() };
      this.node.replaceChildren(this._view.view.node);
    }
    this._view.view.update(p);
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
    if (this._view?.kind === "run") {
      this._view.follower.dispose();
      this._view.view.dispose();
    }
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
            if (artifactAction(artifact) === "download") {
              // JupyterLab has no viewer for it (it would open binary data in the text editor).
              anchor.dataset.action = "download";
              anchor.setAttribute("download", downloadName(artifact));
              return;
            }
            anchor.dataset.action = "open";
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

  /** A path relative to the notebook's folder as a path relative to the server root. */
  private async _resolve(path: string): Promise<string | undefined> {
    if (!this._resolver) return undefined;
    try {
      return decodeURI(await this._resolver.resolveUrl(path));
    } catch {
      return undefined;
    }
  }

  private _mimeType: string;
  private _resolver: IRenderMime.IResolver | null | undefined;
  private _linkHandler: IRenderMime.ILinkHandler | null | undefined;
  private _view: View | undefined;
}
