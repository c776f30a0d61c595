import * as path from "node:path";
import { LabnoteError, type ArtifactRecord } from "../protocol";

/**
 * Find an artifact of a run by name: the newest version, a given version, or an exact stored
 * name such as `model_1`. Shared by live and finished runs.
 */
export function findArtifact(runId: string, artifacts: readonly ArtifactRecord[], name: string, version?: number): ArtifactRecord {
  const byName = artifacts.filter((a) => a.name === name && (version === undefined || a.version === version));
  let rec = byName.length ? byName.reduce((a, b) => (b.version > a.version ? b : a)) : undefined;
  rec ??= artifacts.find((a) => path.posix.basename(a.file).replace(/\.[^.]*$/, "") === name || a.file === name);
  if (!rec) {
    const names = [...new Set(artifacts.map((a) => a.name))];
    throw new LabnoteError("NOT_FOUND", `No artifact "${name}" in run ${runId}`, names.length ? `it has ${names.map((n) => `"${n}"`).join(", ")}` : "it has no artifacts");
  }
  return rec;
}
