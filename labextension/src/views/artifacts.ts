/** What clicking an artifact does: files JupyterLab shows well open in it, others download. */
import type { WireArtifact } from "../protocol";

const OPENABLE_TYPES = /^(text\/|image\/(png|jpeg|gif|svg\+xml|webp|bmp)$|application\/(json|x-ndjson|jsonl|x-yaml|yaml|xml|javascript|x-ipynb\+json)$)/;
const OPENABLE_EXT = /\.(json|jsonl|ndjson|csv|tsv|txt|log|md|ya?ml|xml|html?|ts|js|py|ipynb|png|jpe?g|gif|svg|webp|bmp)$/i;

/**
 * `open` for text, JSON, CSV and images (JupyterLab has a viewer for them), `download` for
 * anything else: JupyterLab would open a binary file (`.npy`, weights) in its text editor and
 * fail with "is not UTF-8 encoded".
 */
export function artifactAction(a: Pick<WireArtifact, "path" | "mediaType">): "open" | "download" {
  // A specific media type decides; a generic or missing one leaves it to the file's extension.
  if (a.mediaType && a.mediaType !== "application/octet-stream") return OPENABLE_TYPES.test(a.mediaType) ? "open" : "download";
  return OPENABLE_EXT.test(a.path) ? "open" : "download";
}

/** The file name a download is saved under. */
export function downloadName(a: Pick<WireArtifact, "path">): string {
  return a.path.split("/").pop() || "artifact";
}
