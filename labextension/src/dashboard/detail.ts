/**
 * The dashboard's run detail, a drawer over the right of the dashboard (click a run's name):
 * its heading (status, name, id, tags, origin, start, duration), the error of a failed run, the
 * config with the keys that differ from the experiment's defaults marked "modified" and those
 * the defaults lack marked "added" (the record's `modified` and `added` lists, by the protocol's
 * one rule), every metric's summary, the artifacts with previews, the run's cells and lineage,
 * the host and git commit it ran on (`env.json`) and the tail of its output log. Reading only.
 */
import { PathExt } from "@jupyterlab/coreutils";
import { Signal, type ISignal } from "@lumino/signaling";
import { configEntries, formatBytes, formatDuration, formatNumber, nonFiniteText, provenanceText, originLabel, RUN_FILES, type ArtifactRecord } from "../protocol";
import { artifactAction, downloadName } from "../views/artifacts";
import { badge, configText, formatTime, h } from "../views/dom";
import type { DashboardRun } from "./model";
import { previewKind, renderPreview, type FileSource } from "./preview";
import { isSystemMetric } from "./plots";
import { CodeReader, type ReadCode } from "../model/code";
import { readText } from "../model/store";
import { plainSource, RunCodeView, type SourceRenderer } from "../views/code";

/** Lines of the output log the detail shows (its end). */
export const OUTPUT_TAIL_LINES = 200;

/** The last `n` lines of a log, and how many came before them. */
export function tailLines(text: string, n = OUTPUT_TAIL_LINES): { lines: string[]; dropped: number } {
  const all = text.replace(/\n$/, "").split("\n");
  if (text === "") return { lines: [], dropped: 0 };
  return { lines: all.slice(-n), dropped: Math.max(0, all.length - n) };
}

/** Host and git facts from a run's env.json, as label/value pairs (what is missing is left out). */
export function environmentFacts(env: unknown): { host: [string, string][]; git: [string, string][] } {
  const o = (env !== null && typeof env === "object" ? env : {}) as Record<string, unknown>;
  const host = (o.host !== null && typeof o.host === "object" ? o.host : {}) as Record<string, unknown>;
  const git = (o.git !== null && typeof o.git === "object" ? o.git : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const cpu = host.cpu as { model?: unknown; count?: unknown } | undefined;
  const mem = (host.memory as { total?: unknown } | undefined)?.total;
  const hostFacts: [string, string | undefined][] = [
    ["host", str(host.hostname)],
    ["user", str(host.user)],
    ["os", str(host.os) ?? str(host.platform)],
    ["arch", str(host.arch)],
    ["cpu", cpu && typeof cpu.count === "number" ? `${cpu.count} × ${str(cpu.model) ?? "cpu"}` : undefined],
    ["memory", typeof mem === "number" ? formatBytes(mem) : undefined],
    ["node", str(host.node)],
    ["pid", typeof host.pid === "number" ? String(host.pid) : undefined],
  ];
  const gitFacts: [string, string | undefined][] = [
    ["commit", str(git.commit)],
    ["branch", str(git.branch)],
    ["remote", str(git.remote)],
    ["working tree", git.dirty === true ? "dirty (uncommitted changes)" : git.dirty === false ? "clean" : undefined],
    ["repository", str(git.root)],
  ];
  const keep = (f: [string, string | undefined][]) => f.filter((x): x is [string, string] => x[1] !== undefined);
  return { host: keep(hostFacts), git: keep(gitFacts) };
}

/** What the run detail reads with and how it shows things. */
export interface RunDetailOptions {
  /** Reads artifacts, env.json, output.log and the run's code (the contents manager). */
  files?: () => FileSource | undefined;
  /** The store's root (server-relative): where the run's session log and cell blobs are. */
  root?: () => string | undefined;
  /** Shows a cell's source (JupyterLab's editor, read-only); plain text without. */
  renderSource?: SourceRenderer;
  /** Opens a file (server-relative) in JupyterLab. */
  open?: (path: string) => void;
}

/** The run detail drawer. */
export class RunDetailView {
  readonly node: HTMLElement;

  constructor(options: RunDetailOptions = {}) {
    this._options = options;
    this._code = new RunCodeView(options.renderSource ?? plainSource);
    this._close = h("button", { class: "jp-labnote-button jp-labnote-detail-close", text: "✕", title: "Close the run detail (Esc)" });
    this._body = h("div", { class: "jp-labnote-detail-body" });
    this.node = h("aside", { class: "jp-labnote-dashboard-detail", hidden: "", tabindex: "-1" }, [this._close, this._body]);
    this._close.addEventListener("click", () => this.hide());
    this.node.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.hide();
    });
  }

  /** The run shown, if the drawer is open. */
  get run(): DashboardRun | undefined {
    return this.node.hidden ? undefined : this._run;
  }

  /** The drawer was closed. */
  get closed(): ISignal<this, void> {
    return this._closed;
  }

  /** Close the drawer. */
  hide(): void {
    if (this.node.hidden) return;
    this.node.hidden = true;
    this._token++;
    this._closed.emit();
  }

  /** Show a run (its record at once, then its files as they arrive). */
  /** The id of the run shown, if any. */
  get runId(): string | undefined {
    return this.node.hidden ? undefined : this._run?.id;
  }

  show(run: DashboardRun): void {
    const token = ++this._token;
    this._run = run;
    this.node.hidden = false;
    const r = run.record;
    const origin = provenanceText({ origin: originLabel(r), rerunOf: r.rerunOf });
    const head = h("div", { class: "jp-labnote-detail-head" }, [
      badge(r.status),
      h("span", { class: "jp-labnote-detail-name", text: r.name || `#${r.number}`, title: r.name }),
      h("span", { class: "jp-labnote-card-id", text: r.id }),
      ...r.tags.map((t) => h("span", { class: "jp-labnote-tag", text: t })),
    ]);
    const facts = h("div", { class: "jp-labnote-detail-facts" }, [
      fact("started", formatTime(r.startTime)),
      fact("duration", r.duration !== undefined ? formatDuration(r.duration) : r.endTime !== undefined ? formatDuration(r.endTime - r.startTime) : "running"),
      ...(origin ? [fact("from", origin)] : []),
      ...(r.hostname ? [fact("host", r.hostname)] : []),
      ...(r.seed ? [fact("seed", String(r.seed))] : []),
    ]);
    const sections: HTMLElement[] = [head, facts];
    if (r.error) sections.push(h("pre", { class: "jp-labnote-card-error", text: r.error.stack ?? `${r.error.name}: ${r.error.message}` }));
    sections.push(this._config(run), this._metrics(run), this._artifacts(run, token));
    // The run's cells and lineage: the panel's own code view, read by the protocol's codeOf.
    const code = h("div", { class: "jp-labnote-detail-code", "data-slot": "run-code" }, [this._code.node]);
    sections.push(section("Cells and lineage", code));
    void this._showCode(run, token);
    const env = h("div", { class: "jp-labnote-detail-env", text: "reading env.json…" });
    const output = h("div", { class: "jp-labnote-detail-output", text: "reading output.log…" });
    sections.push(section("Host and git", env), section("Output", output));
    this._body.replaceChildren(...sections);
    this._body.scrollTop = 0;
    void this._environment(run, env, token);
    void this._output(run, output, token);
  }

  private _config(run: DashboardRun): HTMLElement {
    const entries = configEntries(run.record);
    const modified = entries.filter((e) => e.modified).length;
    const added = entries.filter((e) => e.added).length;
    const rows = entries.map((e) =>
      h("tr", { class: e.modified ? "jp-labnote-detail-modified" : e.added ? "jp-labnote-detail-added" : "" }, [
        h("td", { class: "jp-labnote-config-key", text: e.key, title: e.key }),
        h("td", { class: "jp-labnote-config-value", text: configText(e.value), title: e.value }),
        h("td", { class: "jp-labnote-config-mark" }, e.modified ? [h("span", { class: "jp-labnote-mark jp-labnote-mark-modified", text: "modified", title: "differs from the experiment's default" })] : e.added ? [h("span", { class: "jp-labnote-mark jp-labnote-mark-added", text: "added", title: "not in the experiment's defaults" })] : []),
      ]),
    );
    const named = run.record.named.length ? [h("div", { class: "jp-labnote-hint", text: `named configs: ${run.record.named.join(", ")}` })] : [];
    const count = [`${entries.length} keys`, modified ? `${modified} modified` : "", added ? `${added} added` : ""].filter(Boolean).join(" · ");
    return section("Config", entries.length ? h("div", {}, [...named, h("table", { class: "jp-labnote-table jp-labnote-detail-config" }, [h("tbody", {}, rows)])]) : h("div", { class: "jp-labnote-hint", text: "No config." }), count);
  }

  private _metrics(run: DashboardRun): HTMLElement {
    const names = Object.keys(run.record.metrics);
    const ordered = [...names.filter((n) => !isSystemMetric(n)), ...names.filter(isSystemMetric)];
    if (!ordered.length) return section("Metrics", h("div", { class: "jp-labnote-hint", text: "No metrics logged." }));
    const head = h("tr", {}, ["metric", "last", "min", "max", "points", "last step", ""].map((t) => h("th", { text: t })));
    const rows = ordered.map((n) => {
      const m = run.record.metrics[n];
      return h("tr", { class: isSystemMetric(n) ? "jp-labnote-system-metric" : "" }, [
        h("td", { class: "jp-labnote-config-key", text: n, title: n }),
        ...[m.last, m.min, m.max].map((v) => h("td", { class: "jp-labnote-num", text: formatNumber(v) })),
        h("td", { class: "jp-labnote-num", text: String(m.count) }),
        h("td", { class: "jp-labnote-num", text: String(m.lastStep) }),
        h("td", { class: "jp-labnote-nonfinite", text: nonFiniteText(m) }),
      ]);
    });
    return section("Metrics", h("table", { class: "jp-labnote-table jp-labnote-detail-metrics" }, [h("thead", {}, [head]), h("tbody", {}, rows)]), `${ordered.length}`);
  }

  private _artifacts(run: DashboardRun, token: number): HTMLElement {
    const list = run.record.artifacts;
    if (!list.length) return section("Artifacts", h("div", { class: "jp-labnote-hint", text: "No artifacts." }));
    const items = list.map((a) => this._artifact(run, a, token));
    return section("Artifacts", h("div", { class: "jp-labnote-detail-artifacts" }, items), `${list.length}`);
  }

  private _artifact(run: DashboardRun, a: ArtifactRecord, token: number): HTMLElement {
    const path = PathExt.join(run.dir, a.file);
    const name = a.version ? `${a.name}_${a.version}` : a.name;
    const link = h("a", { class: "jp-labnote-artifact-link", text: name, title: path });
    const wire = { name, path, size: a.size, format: a.format, mediaType: a.mediaType };
    const files = this._options.files?.();
    if (artifactAction(wire) === "download") {
      link.setAttribute("download", downloadName(wire));
      if (files) void files.getDownloadUrl(path).then((u) => (link.href = u), () => undefined);
    } else if (this._options.open) {
      link.href = "#";
      link.addEventListener("click", (e) => {
        e.preventDefault();
        this._options.open?.(path);
      });
    }
    const preview = h("div", { class: "jp-labnote-artifact-preview-slot" });
    const box = h("div", { class: "jp-labnote-detail-artifact", "data-kind": previewKind(a), "data-file": a.file }, [
      h("div", { class: "jp-labnote-detail-artifact-head" }, [link, h("span", { class: "jp-labnote-dashboard-label", text: [a.kind === "checkpoint" ? "checkpoint" : a.format, a.shape ? `(${a.shape.join(", ")})` : "", formatBytes(a.size)].filter(Boolean).join(" · ") })]),
      preview,
    ]);
    if (files)
      void renderPreview(files, path, a).then((node) => {
        if (token === this._token) preview.replaceChildren(node);
      });
    return box;
  }

  private async _showCode(run: DashboardRun, token: number): Promise<void> {
    const files = this._options.files?.();
    const root = this._options.root?.();
    if (!files || root === undefined) {
      this._code.show(undefined);
      return;
    }
    if (this._reader?.root !== root) this._reader = new CodeReader(files, root);
    this._code.show(undefined, true);
    let code: ReadCode | undefined;
    try {
      code = await this._reader.code(run.record);
    } catch {
      code = undefined;
    }
    if (token === this._token) this._code.show(code);
  }

  /** Finalize the code view's editors. */
  dispose(): void {
    this._code.dispose();
  }

  private async _environment(run: DashboardRun, host: HTMLElement, token: number): Promise<void> {
    const text = await this._text(PathExt.join(run.dir, RUN_FILES.env));
    if (token !== this._token) return;
    let env: unknown = {};
    try {
      env = text === undefined ? {} : JSON.parse(text);
    } catch {
      env = {};
    }
    const { host: hf, git } = environmentFacts(env);
    if (!hf.length && !git.length) {
      host.replaceChildren(h("div", { class: "jp-labnote-hint", text: text === undefined ? "No env.json: the run recorded no host or git facts." : "env.json holds no host or git facts." }));
      return;
    }
    host.replaceChildren(h("div", { class: "jp-labnote-detail-env-grid" }, [factTable("Host", hf), factTable("Git", git.length ? git : [["", "not in a git repository"]])]));
  }

  private async _output(run: DashboardRun, out: HTMLElement, token: number): Promise<void> {
    const text = await this._text(PathExt.join(run.dir, RUN_FILES.output));
    if (token !== this._token) return;
    if (!text) {
      out.replaceChildren(h("div", { class: "jp-labnote-hint", text: "No output." }));
      return;
    }
    const { lines, dropped } = tailLines(text);
    out.replaceChildren(...(dropped ? [h("div", { class: "jp-labnote-preview-meta", text: `the last ${lines.length} lines (${dropped} before them)` })] : []), h("pre", { class: "jp-labnote-detail-log", text: lines.join("\n") }));
  }

  private async _text(path: string): Promise<string | undefined> {
    const files = this._options.files?.();
    return files ? readText(files, path) : undefined;
  }

  private readonly _options: RunDetailOptions;
  private readonly _code: RunCodeView;
  private _reader: CodeReader | undefined;
  private readonly _close: HTMLButtonElement;
  private readonly _body: HTMLElement;
  private readonly _closed = new Signal<this, void>(this);
  private _run: DashboardRun | undefined;
  private _token = 0;
}

function fact(label: string, value: string): HTMLElement {
  return h("span", { class: "jp-labnote-detail-fact" }, [h("span", { class: "jp-labnote-dashboard-label", text: `${label} ` }), value]);
}

function factTable(title: string, facts: [string, string][]): HTMLElement {
  return h("table", { class: "jp-labnote-table jp-labnote-detail-kv" }, [
    h("thead", {}, [h("tr", {}, [h("th", { colspan: "2", text: title })])]),
    h("tbody", {}, facts.map(([k, v]) => h("tr", {}, [h("td", { class: "jp-labnote-config-key", text: k }), h("td", { text: v, title: v })]))),
  ]);
}

function section(title: string, body: HTMLElement, count?: string): HTMLElement {
  return h("section", { class: "jp-labnote-detail-section", "data-section": title }, [h("h3", { class: "jp-labnote-detail-title" }, [title, ...(count ? [h("span", { class: "jp-labnote-count", text: count })] : [])]), body]);
}
