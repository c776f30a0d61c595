/** A contents manager over an in-memory tree, answering as the Jupyter server does (404, 403). */
import type { Contents } from "@jupyterlab/services";
import type { ContentsReader } from "../../labextension/src/model/store";

/** A failure shaped as the contents API throws it (a ResponseError with the HTTP response). */
export function httpError(status: number, message: string): Error {
  return Object.assign(new Error(`{"message": "${message}", "reason": null}`), { response: { status } });
}

/** Files by path (server-relative); a folder exists when a file lies under it. `denied` paths answer 403. */
export function fakeContents(files: Record<string, string>, opts: { mtime?: Record<string, number>; denied?: string[]; now?: number } = {}): ContentsReader & { gets: string[] } {
  const now = opts.now ?? Date.now();
  const gets: string[] = [];
  const time = (p: string) => new Date(opts.mtime?.[p] ?? now).toISOString();
  return {
    gets,
    async get(path: string): Promise<Contents.IModel> {
      gets.push(path);
      if (opts.denied?.some((d) => path === d || path.startsWith(`${d}/`))) throw httpError(403, `Permission denied: ${path}`);
      if (path in files) return { name: path.split("/").pop()!, path, type: "file", content: files[path], last_modified: time(path) } as unknown as Contents.IModel;
      const prefix = path ? `${path}/` : "";
      const children = new Map<string, "file" | "directory">();
      for (const f of Object.keys(files)) {
        if (!f.startsWith(prefix)) continue;
        const rest = f.slice(prefix.length).split("/");
        children.set(rest[0], rest.length > 1 ? "directory" : "file");
      }
      if (!children.size) throw httpError(404, `No such file or directory: ${path}`);
      const content = [...children].map(([name, type]) => ({ name, path: prefix + name, type, last_modified: time(prefix + name) }));
      return { name: path.split("/").pop() ?? "", path, type: "directory", content, last_modified: time(path) } as unknown as Contents.IModel;
    },
  };
}

/** A run.json as the library writes it. */
export function record(experiment: string, number: number, o: Record<string, unknown> = {}): string {
  const start = Date.now() - 10_000;
  return JSON.stringify({
    format: 1,
    id: `${experiment}/${number}`,
    experiment,
    number,
    name: `run ${number}`,
    status: "completed",
    tags: [],
    startTime: start,
    endTime: start + 5000,
    duration: 5000,
    heartbeat: start + 5000,
    pid: 1,
    hostname: "h",
    config: { lr: 0.1 * number, optimizer: { name: "adam" } },
    modified: ["lr"],
    added: [],
    metrics: { loss: { count: 3, lastStep: 2, last: 0.5, min: 0.5, max: 2, nan: 1 } },
    artifacts: [],
    ...o,
  });
}
