/** The `labnote:panel` plugin: the Experiments panel in the right sidebar. */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from "@jupyterlab/application";
import { IDocumentManager } from "@jupyterlab/docmanager";
import { INotebookTracker, type NotebookPanel } from "@jupyterlab/notebook";
import { LabIcon } from "@jupyterlab/ui-components";
import { LiveRuns } from "./live";
import { ExperimentsPanel } from "./panel";

/** Command ids. */
export namespace CommandIDs {
  export const openPanel = "labnote:open-panel";
}

/** A flask with a rising line: the panel's icon. */
export const labnoteIcon = new LabIcon({
  name: "labnote:experiments",
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="16"><g class="jp-icon3" fill="#616161">' +
    '<path d="M9 2h6v2h-1v5.2l5.6 9.3A2.3 2.3 0 0 1 17.6 22H6.4a2.3 2.3 0 0 1-2-3.5L10 9.2V4H9V2zm3 9.1-2.3 3.9h4.6L12 11.1z"/>' +
    "</g></svg>",
});

const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: "labnote:panel",
  description: "The Experiments panel: live runs of the active notebook's kernel and their history on disk.",
  autoStart: true,
  requires: [INotebookTracker, IDocumentManager],
  optional: [ILayoutRestorer],
  activate: (app: JupyterFrontEnd, tracker: INotebookTracker, docManager: IDocumentManager, restorer: ILayoutRestorer | null) => {
    const panel = new ExperimentsPanel({ docManager, contents: app.serviceManager.contents });
    panel.title.icon = labnoteIcon;
    app.shell.add(panel, "right", { rank: 300 });
    restorer?.add(panel, "labnote-experiments");

    // One model per open notebook, so runs are recorded even while another notebook is active.
    const models = new Map<NotebookPanel, LiveRuns>();
    const modelFor = (nb: NotebookPanel): LiveRuns => {
      let m = models.get(nb);
      if (!m) {
        m = new LiveRuns(nb.sessionContext);
        models.set(nb, m);
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

    app.commands.addCommand(CommandIDs.openPanel, {
      label: "Show Experiments",
      caption: "Show the labnote Experiments panel",
      icon: labnoteIcon,
      execute: () => app.shell.activateById(panel.id),
    });
  },
};

export default [panelPlugin];
