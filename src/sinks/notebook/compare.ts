/** A comparison of runs in a cell: HTML (self-contained, readable without labnote) with a text fallback. */
import { comparisonHtml, comparisonText, type RunComparison } from "../../protocol";
import { newDisplayId, type Display } from "./display";

/** The comparison as a display bundle. */
export function comparisonBundle(c: RunComparison): Record<string, unknown> {
  return { "text/html": comparisonHtml(c), "text/plain": comparisonText(c) };
}

/** Show the comparison in the cell output. */
export function displayComparison(display: Display, c: RunComparison): void {
  display.display(comparisonBundle(c), newDisplayId("compare"));
}
