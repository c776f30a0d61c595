/**
 * Reads a run's code through the Jupyter contents API: its session's log and the blobs of its
 * cells, put together by the protocol's `codeOf` (the same code the command line shows), and
 * the reproduction notebook built by the protocol's builders. Nothing here writes.
 */
import { PathExt } from "@jupyterlab/coreutils";
import {
  blobPath,
  codeBlobs,
  codeOf,
  notebookOf,
  parseSessionLog,
  reproductionOf,
  sessionLogPath,
  isSessionId,
  type NotebookJson,
  type ParsedSessionLog,
  type RunCode,
  type RunRecord,
} from "../protocol";
import { eachLimited, readText, type ContentsReader } from "./store";

/** A run's code as read, and what could not be read (a missing log or blob), for the view to say. */
export interface ReadCode extends RunCode {
  /** Sources that could not be read (their blob is missing from the store). */
  missing: number;
  /** Set when the record names a lineage whose log could not be read. */
  lineageProblem?: string;
}

/** Reads the code of runs under one store root (a path relative to the server root). */
export class CodeReader {
  constructor(contents: ContentsReader, root: string) {
    this._contents = contents;
    this.root = root;
  }

  readonly root: string;

  /** The run's code: its lineage when the log is readable, else the cells that ran while it was open. */
  async code(record: RunRecord): Promise<ReadCode> {
    return (await this._read(record)).code;
  }

  /** The notebook that reproduces `record` (the export's), given the store's other records. */
  async reproduction(record: RunRecord, others: Iterable<RunRecord>): Promise<NotebookJson> {
    const { code, log } = await this._read(record);
    return notebookOf(reproductionOf(record, code, code.source === "lineage" ? (log?.entries ?? []) : [], others));
  }

  private async _read(record: RunRecord): Promise<{ code: ReadCode; log: ParsedSessionLog | undefined }> {
    let log: ParsedSessionLog | undefined;
    let lineageProblem: string | undefined;
    if (record.lineage) {
      const text = isSessionId(record.lineage.session) ? await this._text(sessionLogPath(record.lineage.session)) : undefined;
      if (text === undefined) lineageProblem = `the session log ${record.lineage.session} is not in the store (removed by gc, or the store predates it)`;
      else log = parseSessionLog(text);
    }
    const texts = new Map<string, string>();
    await eachLimited(codeBlobs(record, log), 8, async (sha) => {
      const t = this._blobs.get(sha) ?? (await this._text(blobPath(sha)));
      if (t !== undefined) {
        this._blobs.set(sha, t);
        texts.set(sha, t);
      }
    });
    const code = codeOf(record, log, (sha) => texts.get(sha));
    const missing = code.cells.filter((c) => c.sha256 !== undefined && !texts.has(c.sha256)).length;
    return { code: lineageProblem ? { ...code, missing, lineageProblem } : { ...code, missing }, log };
  }

  private _text(rel: string): Promise<string | undefined> {
    return readText(this._contents, PathExt.join(this.root, rel));
  }

  private _contents: ContentsReader;
  /** Blobs never change (named by their content): kept once read. */
  private _blobs = new Map<string, string>();
}

