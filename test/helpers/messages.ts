/**
 * Jupyter messages as the harness returns them, and small readers for tests.
 */

/** One Jupyter message, as plain JSON (no buffers). */
export interface JupyterMessage {
  readonly msg_type: string;
  readonly header: Record<string, unknown> & { msg_id?: string; msg_type?: string; date?: string };
  readonly parent_header: Record<string, unknown> & { msg_id?: string };
  readonly metadata: Record<string, unknown>;
  readonly content: Record<string, any>;
}

/** The messages of one type, in order. */
export function ofType(messages: readonly JupyterMessage[], type: string): JupyterMessage[] {
  return messages.filter((m) => m.msg_type === type);
}

/** All `stream` text (stdout and stderr unless `name` picks one), concatenated in order. */
export function streamText(messages: readonly JupyterMessage[], name?: "stdout" | "stderr"): string {
  return ofType(messages, "stream")
    .filter((m) => name === undefined || m.content.name === name)
    .map((m) => String(m.content.text ?? ""))
    .join("");
}

/** The `display_data` and `update_display_data` messages, in order. */
export function displays(messages: readonly JupyterMessage[]): JupyterMessage[] {
  return messages.filter((m) => m.msg_type === "display_data" || m.msg_type === "update_display_data");
}

/**
 * What a failed cell reported: the `error` message's `ename: evalue` when there is one,
 * else the stderr text (tslab prints a cell's exception, compile errors and "Interrupted
 * asynchronously" to stderr and sends no `error` message); undefined when there is neither.
 */
export function errorText(messages: readonly JupyterMessage[]): string | undefined {
  const error = ofType(messages, "error")[0];
  if (error !== undefined) return `${error.content.ename}: ${error.content.evalue}`;
  const stderr = streamText(messages, "stderr");
  return stderr === "" ? undefined : stderr;
}

/** The size in bytes of a message's content as JSON (what travels on IOPub, roughly). */
export function contentBytes(message: JupyterMessage): number {
  return Buffer.byteLength(JSON.stringify(message.content), "utf8");
}
