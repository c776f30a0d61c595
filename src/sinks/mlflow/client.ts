/**
 * A small client of MLflow's REST API (`/api/2.0/mlflow/…` and the artifact proxy
 * `/api/2.0/mlflow-artifacts/artifacts/…`) over Node's fetch. Credentials come from MLflow's own
 * variables and live only in this object's request headers: they are never part of a URL, a
 * message or anything written.
 */
import { LabnoteError, describe } from "../../protocol";

/** Where the server is and how to sign in, as read from the options and the environment. */
export interface Connection {
  /** The tracking URI without credentials: safe to show and to write. */
  readonly uri: string;
  /** The Authorization header, if any. Never shown, never written. */
  readonly authorization: string | undefined;
}

/**
 * The server named by `uri` (or `MLFLOW_TRACKING_URI`), with the credentials of
 * `MLFLOW_TRACKING_TOKEN` or `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD` (or the URI's
 * own `user:password@`, taken out of it).
 */
export function connection(uri: string | undefined, env: NodeJS.ProcessEnv = process.env): Connection {
  const given = uri ?? env.MLFLOW_TRACKING_URI;
  if (given === undefined || given.trim() === "")
    throw new LabnoteError(
      "INVALID_OPTION",
      "Invalid option mlflow",
      "mlflow: true sends runs to the server named by MLFLOW_TRACKING_URI, which is not set; set it (e.g. MLFLOW_TRACKING_URI=http://127.0.0.1:5000) or pass mlflow: { trackingUri: \"http://…\" }",
    );
  let url: URL;
  try {
    url = new URL(given.trim());
  } catch {
    throw new LabnoteError("INVALID_OPTION", "Invalid option mlflow", `the tracking URI is not a URL: ${describe(safeUri(given))}; expected http://host:port or https://host`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new LabnoteError("INVALID_OPTION", "Invalid option mlflow", `labnote sends runs to an MLflow tracking server over HTTP; the tracking URI ${describe(safeUri(given))} is not http:// or https://`);
  let authorization: string | undefined;
  if (url.username || url.password) authorization = basic(decodeURIComponent(url.username), decodeURIComponent(url.password));
  url.username = "";
  url.password = "";
  if (env.MLFLOW_TRACKING_TOKEN) authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  else if (env.MLFLOW_TRACKING_USERNAME || env.MLFLOW_TRACKING_PASSWORD) authorization = basic(env.MLFLOW_TRACKING_USERNAME ?? "", env.MLFLOW_TRACKING_PASSWORD ?? "");
  const conn = { uri: url.toString().replace(/\/+$/, "") } as Connection;
  // Not enumerable: a sink or options object printed or serialized never shows it.
  Object.defineProperty(conn, "authorization", { value: authorization, enumerable: false });
  return conn;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

/** A URI with any `user:password@` taken out, for messages. */
export function safeUri(uri: string): string {
  return uri.replace(/\/\/[^/@]*@/, "//");
}

/** A request the server refused or could not be made. */
export class MlflowRequestError extends Error {
  override readonly name = "MlflowRequestError";
  constructor(
    message: string,
    /** The HTTP status, or 0 when no answer came (down, refused, timed out). */
    readonly status: number,
    /** MLflow's error code (`RESOURCE_ALREADY_EXISTS`, `INVALID_PARAMETER_VALUE`, …). */
    readonly code: string,
  ) {
    super(message);
  }

  /** True when trying again later may work: no answer, a server error, too many requests. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.status === 408;
  }
}

const STALE_SOCKET = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

/** How long one request may take before it counts as no answer. */
export const REQUEST_TIMEOUT_MS = 15_000;

/** A run as the server describes it (the fields labnote uses). */
export interface MlflowRunInfo {
  run_id: string;
  experiment_id: string;
  status?: string;
  artifact_uri?: string;
}

/** A run as `runs/search` and `runs/get` give it. */
export interface MlflowRun {
  info: MlflowRunInfo & { run_name?: string; start_time?: number | string; end_time?: number | string; lifecycle_stage?: string; user_id?: string };
  data?: {
    metrics?: { key: string; value: number | string; timestamp: number | string; step?: number | string }[];
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
  };
}

/** One point of a metric's history as the server gives it (int64 fields may come as strings). */
export interface MlflowMetric {
  key: string;
  value: number | string;
  timestamp: number | string;
  step?: number | string;
}

/** Points a `metrics/get-history` page asks for (the server's own page size). */
const HISTORY_PAGE = 25_000;

/** An artifact's root as the proxy names it: `mlflow-artifacts:/1/<run>/artifacts` → `1/<run>/artifacts`; undefined when the server does not serve artifacts. */
export function artifactPrefix(artifactUri: string | undefined): string | undefined {
  // mlflow-artifacts:/1/<run>/artifacts, or mlflow-artifacts://host:port/1/<run>/artifacts
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(artifactUri ?? "");
  return m ? m[1] : undefined;
}

/** MLflow's tracking API, one method a call. */
export class MlflowClient {
  constructor(readonly conn: Connection) {}

  /** POST or GET a JSON endpoint under `/api/2.0/mlflow/`. */
  async call<T = Record<string, unknown>>(method: "GET" | "POST", endpoint: string, body?: unknown, query?: Record<string, string>): Promise<T> {
    const qs = query ? `?${new URLSearchParams(query).toString()}` : "";
    const text = typeof body === "string" ? body : body === undefined ? undefined : JSON.stringify(body);
    return (await this.request(method, `/api/2.0/mlflow/${endpoint}${qs}`, text, "application/json")) as T;
  }

  /** The experiment's id, or undefined when there is none of that name. */
  async experimentId(name: string): Promise<string | undefined> {
    try {
      const r = await this.call<{ experiment: { experiment_id: string; lifecycle_stage?: string } }>("GET", "experiments/get-by-name", undefined, { experiment_name: name });
      return r.experiment.experiment_id;
    } catch (e) {
      if (e instanceof MlflowRequestError && e.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw e;
    }
  }

  /** Find the experiment by name or create it (another client creating it at once is fine). */
  async ensureExperiment(name: string): Promise<string> {
    const found = await this.experimentId(name);
    if (found !== undefined) return found;
    try {
      const r = await this.call<{ experiment_id: string }>("POST", "experiments/create", { name });
      return r.experiment_id;
    } catch (e) {
      if (e instanceof MlflowRequestError && e.code === "RESOURCE_ALREADY_EXISTS") {
        const again = await this.experimentId(name);
        if (again !== undefined) return again;
      }
      throw e;
    }
  }

  /** The run of the experiment with tag `key` = `value`, if one exists. */
  async findRun(experimentId: string, key: string, value: string): Promise<MlflowRunInfo | undefined> {
    const filter = `tags.\`${key}\` = '${value.replace(/'/g, "\\'")}'`;
    const r = await this.call<{ runs?: { info: MlflowRunInfo }[] }>("POST", "runs/search", { experiment_ids: [experimentId], filter, max_results: 1, run_view_type: "ALL" });
    return r.runs?.[0]?.info;
  }

  /** One page of `runs/search` (at most 1,000 runs), and the token of the next page if any. */
  async searchRuns(body: { experiment_ids: string[]; filter?: string; run_view_type?: "ACTIVE_ONLY" | "DELETED_ONLY" | "ALL"; order_by?: string[]; max_results?: number; page_token?: string }): Promise<{ runs: MlflowRun[]; next_page_token?: string }> {
    const r = await this.call<{ runs?: MlflowRun[]; next_page_token?: string }>("POST", "runs/search", { max_results: 1000, run_view_type: "ACTIVE_ONLY", ...body });
    return { runs: r.runs ?? [], next_page_token: r.next_page_token || undefined };
  }

  /** Every active run of the experiment matching `filter`, page after page, oldest first. */
  async allRuns(experimentId: string, filter?: string): Promise<MlflowRun[]> {
    const out: MlflowRun[] = [];
    let token: string | undefined;
    do {
      const page = await this.searchRuns({ experiment_ids: [experimentId], filter, order_by: ["attributes.start_time ASC"], page_token: token });
      out.push(...page.runs);
      token = page.next_page_token;
    } while (token);
    return out;
  }

  /** Every active experiment of the server, page after page. */
  async experiments(): Promise<{ experiment_id: string; name: string }[]> {
    const out: { experiment_id: string; name: string }[] = [];
    let token: string | undefined;
    do {
      const r = await this.call<{ experiments?: { experiment_id: string; name: string }[]; next_page_token?: string }>("POST", "experiments/search", { max_results: 1000, view_type: "ACTIVE_ONLY", ...(token ? { page_token: token } : {}) });
      out.push(...(r.experiments ?? []));
      token = r.next_page_token || undefined;
    } while (token);
    return out;
  }

  /**
   * Every point of one metric of a run (`metrics/get-history`, page after page), in the order
   * the server gives them; `onPage` hears each page's count.
   */
  async metricHistory(runId: string, key: string, onPage?: (n: number) => void): Promise<MlflowMetric[]> {
    const out: MlflowMetric[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { run_id: runId, metric_key: key, max_results: String(HISTORY_PAGE) };
      if (token) query.page_token = token;
      const r = await this.call<{ metrics?: MlflowMetric[]; next_page_token?: string }>("GET", "metrics/get-history", undefined, query);
      const page = r.metrics ?? [];
      for (const m of page) out.push(m);
      onPage?.(page.length);
      token = r.next_page_token || undefined;
    } while (token);
    return out;
  }

  /** Every artifact file of a run (paths relative to its artifact root), through the tracking API. */
  async artifactFiles(runId: string, dir?: string): Promise<string[]> {
    const query: Record<string, string> = { run_id: runId };
    if (dir !== undefined) query.path = dir;
    const r = await this.call<{ files?: { path: string; is_dir?: boolean }[] }>("GET", "artifacts/list", undefined, query);
    const out: string[] = [];
    for (const f of r.files ?? []) {
      if (f.is_dir) out.push(...(await this.artifactFiles(runId, f.path)));
      else out.push(f.path);
    }
    return out;
  }

  /** Download one artifact through the server's proxy, at `<prefix>/<path>`. */
  async getArtifact(prefix: string, relPath: string): Promise<Buffer> {
    const parts = [...prefix.split("/"), ...relPath.split("/")].filter((p) => p !== "").map(encodeURIComponent);
    return (await this.request("GET", `/api/2.0/mlflow-artifacts/artifacts/${parts.join("/")}`, undefined, "application/octet-stream", true)) as Buffer;
  }

  async createRun(body: { experiment_id: string; run_name: string; start_time: number; tags: { key: string; value: string }[] }): Promise<MlflowRunInfo> {
    const r = await this.call<{ run: { info: MlflowRunInfo } }>("POST", "runs/create", body);
    return r.run.info;
  }

  /** One `runs/log-batch` call, its body already JSON. */
  async logBatch(json: string): Promise<void> {
    await this.call("POST", "runs/log-batch", json);
  }

  /** Set a run's status (and end time, when it ended). */
  async updateRun(runId: string, status: string, endTime?: number): Promise<void> {
    await this.call("POST", "runs/update", endTime === undefined ? { run_id: runId, status } : { run_id: runId, status, end_time: endTime });
  }

  /** Upload a file through the server's artifact proxy, at `<prefix>/<path>`. */
  async putArtifact(prefix: string, relPath: string, data: Uint8Array): Promise<void> {
    const parts = [...prefix.split("/"), ...relPath.split("/")].filter((p) => p !== "").map(encodeURIComponent);
    await this.request("PUT", `/api/2.0/mlflow-artifacts/artifacts/${parts.join("/")}`, data, "application/octet-stream");
  }

  private async request(method: string, pathAndQuery: string, body: string | Uint8Array | undefined, contentType: string, binary = false): Promise<unknown> {
    const headers: Record<string, string> = { "content-type": contentType };
    if (this.conn.authorization !== undefined) headers.authorization = this.conn.authorization;
    const where = `${method} ${this.conn.uri}${pathAndQuery.replace(/\?.*$/, "")}`;
    let res: Response | undefined;
    for (let attempt = 0; res === undefined; attempt++) {
      try {
        res = await fetch(this.conn.uri + pathAndQuery, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      } catch (e) {
        // A kept-alive connection the server had closed (it restarted, or dropped idle ones):
        // the request never reached it, so it goes again at once on a new connection.
        if (attempt === 0 && STALE_SOCKET.has(noAnswerReason(e))) continue;
        throw new MlflowRequestError(`${where}: no answer (${noAnswerReason(e)})`, 0, "");
      }
    }
    if (binary && res.ok) return Buffer.from(await res.arrayBuffer());
    const text = await res.text().catch(() => "");
    if (!res.ok) {
      let code = "";
      let message = text.slice(0, 300);
      try {
        const j = JSON.parse(text) as { error_code?: string; message?: string };
        code = j.error_code ?? "";
        message = j.message ?? message;
      } catch {
        /* not JSON: an HTML error page, a proxy's text */
      }
      throw new MlflowRequestError(`${where}: HTTP ${res.status}${code ? ` ${code}` : ""}${message ? `: ${message.slice(0, 300)}` : ""}`, res.status, code);
    }
    if (text === "") return {};
    try {
      return JSON.parse(text);
    } catch {
      return {};
    }
  }
}

/** Why no answer came, in a few words (the code of the underlying socket error when there is one). */
function noAnswerReason(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return `timed out after ${REQUEST_TIMEOUT_MS / 1000} s`;
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}
