/**
 * A run's artifacts: values saved by type, files copied in, checkpoints, resources. Every byte
 * goes through the run's storage, so a ghost run keeps them in memory and writes nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LabnoteError, storeError, type ArtifactRecord, type ResourceRecord } from "../protocol";
import { findArtifact } from "../history/artifacts";
import { decodeArtifact, mediaTypeOf, pickSaver, typeName, type SaveOptions, type Saver, type SaverTest } from "./artifacts/formats";
import { readSource, type RunStorage } from "./storage";
import { sha256 } from "./util/hash";
import { checkRelativePath, describe } from "../protocol";

/** What the artifacts need of their run. */
export interface ArtifactsHost {
  readonly id: string;
  readonly storage: RunStorage;
  readonly savers: [SaverTest, Saver][];
  checkOpen(what: string): void;
  notify(event: "artifact", a: ArtifactRecord): void;
  addResource(rec: ResourceRecord): void;
}

/** Options of addArtifact and addCheckpoint. */
export interface AddFileOptions {
  name?: string;
  metadata?: Record<string, unknown>;
}

/** A run's artifacts and the rules for naming and versioning them. */
export class RunArtifacts {
  readonly list: ArtifactRecord[] = [];

  constructor(host: ArtifactsHost) {
    this.host = host;
  }

  /** Save a value; the format follows its type. */
  async save(value: unknown, name: string | undefined, options: SaveOptions): Promise<ArtifactRecord> {
    const host = this.host;
    host.checkOpen("save");
    const saver = pickSaver(value, host.savers);
    const base = stripExt(checkRelativePath("artifact", name ?? `artifact_${this.list.length + 1}`), saver.ext);
    const data = saver.write(value, options);
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const { version, rel } = this.nextVersion("artifacts", base, saver.ext);
    host.storage.writeFile(rel, bytes);
    const rec: ArtifactRecord = {
      name: base,
      version,
      file: rel,
      format: saver.format,
      type: typeName(value),
      mediaType: saver.mediaType ?? mediaTypeOf(rel),
      size: bytes.byteLength,
      sha256: sha256(bytes),
      time: Date.now(),
      kind: "artifact",
      ...(options.shape ? { shape: [...options.shape] } : {}),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    };
    this.list.push(rec);
    host.notify("artifact", rec);
    return rec;
  }

  /** Load an artifact by name (newest version) or exact stored name. */
  async load(name: string, version: number | undefined): Promise<unknown> {
    const rec = findArtifact(this.host.id, this.list, name, version);
    return decodeArtifact(rec, this.host.storage.readFile(rec.file), this.host.savers);
  }

  /** Copy a file into `artifacts/` or `checkpoints/` with its size and sha256. */
  async addFile(file: string, kind: ArtifactRecord["kind"], options: AddFileOptions): Promise<ArtifactRecord> {
    const host = this.host;
    host.checkOpen(kind === "checkpoint" ? "addCheckpoint" : "addArtifact");
    if (typeof file !== "string" || !file) throw new LabnoteError("INVALID_VALUE", `Cannot add ${kind}`, `expected a file path, got ${describe(file)}`);
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch (e) {
      throw storeError("read", file, e);
    }
    if (!st.isFile()) throw new LabnoteError("INVALID_VALUE", `Cannot add ${kind} ${file}`, "it is not a regular file");
    // A name without an extension keeps the file's (`{ name: "samples" }` for x.png stores samples.png, an image).
    const ext = path.extname(options.name ?? file) || path.extname(file);
    const base = stripExt(checkRelativePath(kind, options.name ?? path.basename(file)), ext);
    const { version, rel } = this.nextVersion(kind === "checkpoint" ? "checkpoints" : "artifacts", base, ext);
    const { size, sha256: sha } = host.storage.copyIn(file, rel);
    const rec: ArtifactRecord = {
      name: base,
      version,
      file: rel,
      format: kind === "checkpoint" ? "checkpoint" : "file",
      type: "file",
      mediaType: mediaTypeOf(rel),
      size,
      sha256: sha,
      time: Date.now(),
      kind,
      source: path.resolve(file),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    };
    this.list.push(rec);
    host.notify("artifact", rec);
    return rec;
  }

  /** Record a file the run read, stored once across runs by its hash. */
  async addResource(file: string): Promise<ResourceRecord> {
    const host = this.host;
    host.checkOpen("addResource");
    const data = readSource(file);
    const sha = host.storage.putBlob(data, sha256(data));
    const rec: ResourceRecord = { path: path.resolve(file), sha256: sha, size: data.length, time: Date.now() };
    host.addResource(rec);
    return rec;
  }

  private nextVersion(folder: string, base: string, ext: string): { version: number; rel: string } {
    let version = 0;
    for (const a of this.list) if (a.name === base && a.file.startsWith(folder + "/")) version = Math.max(version, a.version + 1);
    for (;;) {
      const rel = `${folder}/${version === 0 ? base : `${base}_${version}`}${ext}`;
      if (!this.list.some((a) => a.file === rel) && !this.host.storage.exists(rel)) return { version, rel };
      version++;
    }
  }

  private readonly host: ArtifactsHost;
}

function stripExt(name: string, ext: string): string {
  return ext && name.toLowerCase().endsWith(ext.toLowerCase()) && name.length > ext.length ? name.slice(0, -ext.length) : name;
}
