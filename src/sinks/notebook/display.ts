/** Where the notebook sink shows things: the cell output of a kernel (the tslab bridge gives one). */
export interface Display {
  /** Show a bundle (every MIME type at once) under `displayId`. */
  display(bundle: Record<string, unknown>, displayId: string): void;
  /** Replace what `displayId` shows, in place. */
  update(bundle: Record<string, unknown>, displayId: string): void;
}

/** Updates of one widget at most this often; Jupyter drops IOPub traffic above 1000 msg/s or 1 MB/s. */
export const UPDATE_MS = 250;

let ids = 0;

/** A fresh display id (unique across kernels and reloads). */
export function newDisplayId(kind: string): string {
  return `labnote-${kind}-${process.pid}-${Date.now().toString(36)}-${++ids}`;
}
