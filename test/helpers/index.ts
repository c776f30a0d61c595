/** The kernel test harness: a whole notebook through nbclient, or one kernel step by step. */
export { executeNotebook, NotebookExecutionError } from "./notebook";
export type { ExecutedNotebook, ExecuteNotebookOptions, Notebook, NotebookCell } from "./notebook";
export { KernelSession, KernelSessionError } from "./kernel";
export type { ExecuteResult, KernelSessionOptions } from "./kernel";
export { contentBytes, displays, errorText, ofType, streamText } from "./messages";
export type { JupyterMessage } from "./messages";
export { repoRoot, venvPython } from "./env";
