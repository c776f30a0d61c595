import type { JupyterFrontEnd, JupyterFrontEndPlugin } from "@jupyterlab/application";

const panel: JupyterFrontEndPlugin<void> = {
  id: "labnote:panel",
  description: "The Experiments panel.",
  autoStart: true,
  activate: (_app: JupyterFrontEnd) => {
    console.log("labnote panel active");
  },
};
export default [panel];
