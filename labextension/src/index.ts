/**
 * The `labnote-jupyterlab:panel` plugin: the Experiments panel in the right sidebar, one live
 * model per open notebook, and the page's run registry wired to the contents API (so cards in
 * cell outputs can read their run's record). Its settings hold the store root the panel reads.
 */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { ICommandPalette, MainAreaWidget } from "@jupyterlab/apputils";
import { CodeEditor, IEditorServices } from "@jupyterlab/codeeditor";
import { ILauncher } from "@jupyterlab/launcher";
import { Dashboard } from "./dashboard/widget";
import { PathExt } from "@jupyterlab/coreutils";
import { IDocumentManager } from "@jupyterlab/docmanager";
import { INotebookTracker, type NotebookPanel } from "@jupyterlab/notebook";
import { ISettingRegistry } from "@jupyterlab/settingregistry";
import { LabIcon } from "@jupyterlab/ui-components";
import { LiveRuns } from "./model/live";
import { runRegistry } from "./model/registry";
import { DEFAULT_ROOT, Stores } from "./model/stores";
import { StoreEditor } from "./model/edits";
import { ExperimentsPanel } from "./panel";
import { parseRunRecord, parseSweepId } from "./protocol";
import { sweepActions } from "./views/sweep";

/** The package's name: plugin ids are `<package>:<plugin>`. */
export const PACKAGE = "labnote-jupyterlab";

/** Command ids. */
export namespace CommandIDs {
  export const openPanel = "labnote:open-panel";
  export const openDashboard = `${PACKAGE}:open-dashboard`;
  export const openSweep = `${PACKAGE}:open-sweep`;
}

/** A flask with a rising line: the panel's icon. */
export const labnoteIcon = new LabIcon({
  name: "labnote:experiments",
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><g class="jp-icon3" fill="#616161">' +
    '<path d="M9 2h6v2h-1v5.2l5.6 9.3A2.3 2.3 0 0 1 17.6 22H6.4a2.3 2.3 0 0 1-2-3.5L10 9.2V4H9V2zm3 9.1-2.3 3.9h4.6L12 11.1z"/>' +
    "</g></svg>",
});

/** A run's cell source shown in JupyterLab's own editor, read-only, highlighted as TypeScript. */
function sourceInEditor(editors: IEditorServices): (host: HTMLElement, source: string) => { dispose(): void } {
  const mimeType = editors.mimeTypeService.getMimeTypeByLanguage({ name: "typescript", file_extension: ".ts" });
  return (host, source) => {
    const model = new CodeEditor.Model({ mimeType });
    model.sharedModel.setSource(source);
    const editor = editors.factoryService.newInlineEditor({ host, model, config: { readOnly: true, lineNumbers: false } });
    return {
      dispose: () => {
        editor.dispose();
        model.dispose();
      },
    };
  };
}

const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: `${PACKAGE}:panel`,
  description: "The Experiments panel: live runs of the active notebook's kernel and their history on disk.",
  autoStart: true,
  requires: [INotebookTracker, IDocumentManager],
  optional: [ILayoutRestorer, ISettingRegistry, IEditorServices],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, docManager: IDocumentManager, restorer: ILayoutRestorer | null, settings: ISettingRegistry | null, editors: IEditorServices | null) => {
    const contents = app.serviceManager.contents;
    const stores = new Stores(contents);
    runRegistry.reader = async (path) => {
      try {
        const m = await contents.get(path, { content: true, type: "file", format: "text" });
        return parseRunRecord(typeof m.content === "string" ? m.content : "");
      } catch {
        return undefined;
      }
    };
    const panel = new ExperimentsPanel({
      docManager,
      contents,
      stores,
      openDashboard: () => void app.commands.execute(CommandIDs.openDashboard),
      renderSource: editors ? sourceInEditor(editors) : undefined,
      notebooks: () => {
        const open: NotebookPanel[] = [];
        tracker.forEach((nb) => void open.push(nb));
        return open;
      },
      activate: (widget) => app.shell.activateById(widget.id),
    });
    panel.title.icon = labnoteIcon;
    app.shell.add(panel, "right", { rank: 300 });
    restorer?.add(panel, "labnote-experiments");

    // One model per open notebook, so runs are recorded even while another notebook is active.
    const models = new Map<NotebookPanel, LiveRuns>();
    const modelFor = (nb: NotebookPanel): LiveRuns => {
      let m = models.get(nb);
      if (!m) {
        const model = new LiveRuns(nb.sessionContext, {
          registry: runRegistry,
          store: (root) => stores.locate(PathExt.dirname(nb.context.path), root).store,
          notebookPath: () => nb.context.path,
        });
        m = model;
        models.set(nb, model);
        // A page (re)loaded while a run is running: find it from its record and heartbeat.
        void nb.context.ready.then(() => model.findRunning());
        nb.disposed.connect(() => {
          models.get(nb)?.dispose();
          models.delete(nb);
          if (panel.notebook === nb) panel.follow(tracker.currentWidget, tracker.currentWidget ? modelFor(tracker.currentWidget) : undefined);
        });
      }
      return m;
    };
    tracker.forEach((nb) => modelFor(nb));
    tracker.widgetAdded.connect((_, nb) => void modelFor(nb));
    const follow = () => {
      const nb = tracker.currentWidget;
      panel.follow(nb, nb ? modelFor(nb) : undefined);
    };
    tracker.currentChanged.connect(follow);
    follow();

    if (settings) {
      const apply = (s: ISettingRegistry.ISettings) => {
        const value = s.get("root").composite;
        const root = typeof value === "string" ? value : DEFAULT_ROOT;
        if (root === stores.root) return;
        stores.root = root;
        panel.refresh();
      };
      void settings.load(panelPlugin.id).then((s) => {
        apply(s);
        s.changed.connect(apply);
      }, () => undefined);
    }

    app.commands.addCommand(CommandIDs.openPanel, {
      label: "Show Experiments",
      caption: "Show the labnote Experiments panel",
      icon: labnoteIcon,
      execute: () => app.shell.activateById(panel.id),
    });
  },
};

/**
 * The `labnote-jupyterlab:dashboard` plugin: the Experiments dashboard in the main area, for the
 * store under the active notebook's folder (else the panel's root setting under the server root).
 */
const dashboardPlugin: JupyterFrontEndPlugin<void> = {
  id: `${PACKAGE}:dashboard`,
  description: "The Experiments dashboard: every run of a store in a wide table, in the main area.",
  autoStart: true,
  optional: [INotebookTracker, ICommandPalette, ILauncher, ISettingRegistry, IEditorServices],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker | null, palette: ICommandPalette | null, launcher: ILauncher | null, settings: ISettingRegistry | null, editors: IEditorServices | null) => {
    const stores = new Stores(app.serviceManager.contents);
    if (settings) {
      void settings.load(panelPlugin.id).then((s) => {
        const apply = () => {
          const v = s.get("root").composite;
          stores.root = typeof v === "string" ? v : DEFAULT_ROOT;
        };
        apply();
        s.changed.connect(apply);
      }, () => undefined);
    }
    let widget: MainAreaWidget<Dashboard> | undefined;
    const where = () => {
      const nb = tracker?.currentWidget;
      return nb ? PathExt.dirname(nb.context.path) : "";
    };
    const open = async (): Promise<MainAreaWidget<Dashboard>> => {
      // A widget added to the main area before JupyterLab has restored its layout is dropped
      // when the restore completes (a command run as the page loads).
      await app.restored;
      if (!widget || widget.isDisposed) {
        const content = new Dashboard({
          store: () => stores.locate(where()).store,
          describe: () => {
            const loc = stores.locate(where());
            return loc.path === undefined ? `The store ${loc.root} lies outside the Jupyter server's root: the dashboard cannot read it` : `Store: ${loc.path || "."}/`;
          },
          files: () => app.serviceManager.contents,
          renderSource: editors ? sourceInEditor(editors) : undefined,
          open: (path) => void app.commands.execute("docmanager:open", { path }),
          editor: () => {
            const loc = stores.locate(where());
            return loc.path === undefined ? undefined : new StoreEditor(app.serviceManager.contents, loc.path);
          },
        });
        widget = new MainAreaWidget({ content });
        widget.id = "labnote-dashboard";
        widget.title.label = "Experiments";
        widget.title.icon = labnoteIcon;
        widget.title.closable = true;
      }
      if (!widget.isAttached) app.shell.add(widget, "main");
      else void widget.content.load();
      app.shell.activateById(widget.id);
      return widget;
    };
    app.commands.addCommand(CommandIDs.openDashboard, {
      label: "labnote: Open experiments dashboard",
      caption: "Every run of the store in a wide table: query, columns, sort, group, select",
      icon: labnoteIcon,
      execute: async () => void (await open()),
    });
    app.commands.addCommand(CommandIDs.openSweep, {
      label: (args) => (args.experiment && args.sweep !== undefined ? `labnote: Open sweep ${String(args.experiment)}/sweep-${String(args.sweep).replace(/^.*sweep-/, "")} in the dashboard` : "labnote: Open a sweep in the dashboard"),
      caption: "The dashboard on one sweep: its trials grouped, on parallel coordinates over its space and metric",
      icon: labnoteIcon,
      describedBy: {
        args: {
          type: "object",
          properties: { experiment: { type: "string", description: "The sweep's experiment" }, sweep: { type: ["number", "string"], description: "The sweep's number (3, \"sweep-3\" or \"<experiment>/sweep-3\")" } },
          required: ["experiment", "sweep"],
        },
      },
      execute: async (args) => {
        const experiment = String(args.experiment ?? "");
        const number = parseSweepId(experiment, args.sweep);
        await (await open()).content.openSweep(experiment, number);
      },
    });
    // Sweep cards in cell outputs get an "Open in dashboard" button.
    sweepActions.open = (experiment, sweep) => void app.commands.execute(CommandIDs.openSweep, { experiment, sweep });
    palette?.addItem({ command: CommandIDs.openDashboard, category: "labnote" });
    launcher?.add({ command: CommandIDs.openDashboard, category: "Other", rank: 1 });
  },
};

export default [panelPlugin, dashboardPlugin];
