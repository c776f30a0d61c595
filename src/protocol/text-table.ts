/** Tables as aligned plain text, for the command line and the text fallback of a table in a cell. */

/**
 * Columns padded to their widest cell (at most `maxWidth`; longer cells end in `…`), two spaces
 * apart, a rule of dashes under the header.
 * @example textTable(["id", "loss"], [["mnist/1", "0.25"]])
 */
export function textTable(columns: readonly string[], rows: readonly (readonly string[])[], maxWidth = 32): string {
  const widths = columns.map((c, j) => Math.min(maxWidth, Math.max(c.length, ...rows.map((r) => (r[j] ?? "").length))));
  const line = (vals: readonly string[]) =>
    vals
      .map((v, j) => (v.length > widths[j] ? v.slice(0, widths[j] - 1) + "…" : v).padEnd(widths[j]))
      .join("  ")
      .trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
