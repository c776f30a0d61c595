/**
 * The store a command works on, found the same way by every command (`--root`, LABNOTE_DIR,
 * ./experiments, the nearest experiments/ store below): when it was found by searching, a line
 * on stderr names it, so that a person knows which store they are looking at.
 */
import { resolveRoot } from "../history/paths";

/** The root for `--root` (or its defaults), with a `store:` line on stderr when it was searched for. */
export function storeRoot(flag: string | boolean | undefined): string {
  const found = resolveRoot({ root: typeof flag === "string" ? flag : undefined, env: process.env.LABNOTE_DIR, cwd: process.cwd() });
  if (found.how === "search") {
    const also = found.others.length ? ` (also found: ${found.others.join(", ")}; pass --root to choose)` : "";
    console.error(`store: ${found.root}${also}`);
  }
  return found.root;
}

/** The line every command's usage has for --root. */
export const ROOT_OPTION = "  --root DIR          store root (default: $LABNOTE_DIR, else ./experiments, else the nearest experiments/ store in a subfolder)";
