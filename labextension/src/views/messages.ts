/**
 * What the panel says in words about the kernel and the store: pure functions, so every
 * sentence a person may read (and what to do) is unit-tested.
 */
import type { ReadFailure } from "../model/store";
import type { StoreLocation } from "../model/stores";

/**
 * What the header says of the kernel. A run that is running wins over the kernel's own status:
 * tslab reports `idle` while a cell awaits (and after a page reload), yet the run goes on.
 */
export function kernelLabel(status: string, running: number): { text: string; status: string } {
  if (running > 0) return { text: `kernel: ${running} run${running === 1 ? "" : "s"} running`, status: "running" };
  return { text: status ? `kernel ${status}` : "", status };
}

/** What History says when the store cannot be listed: missing is the normal empty state, anything else a failure. */
export function storeMessage(loc: StoreLocation, failure?: ReadFailure): { text: string; error?: boolean } {
  const where = `${loc.root.replace(/\/+$/, "") || "."}/`;
  if (loc.path === undefined)
    return {
      text: `The store ${where} is outside the Jupyter server's root, so the panel cannot read it through the server. Start JupyterLab from a folder that contains the store, or keep the store inside the server's root (the panel's root is the "Store root" setting of labnote).`,
      error: true,
    };
  if (!failure || failure.missing) return { text: `No runs on disk yet under ${where} — runs are written there as they happen.` };
  const code = failure.status ? ` (HTTP ${failure.status})` : "";
  const what = failure.status === 403 ? "the Jupyter server is not allowed to read it" : "the Jupyter server could not read it";
  return {
    text: `The store ${where} cannot be read: ${what}${code}: ${failure.message}. Check the folder's permissions for the user running JupyterLab, or point the "Store root" setting of labnote elsewhere.`,
    error: true,
  };
}

