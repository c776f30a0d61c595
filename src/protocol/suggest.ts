/** "Did you mean": the nearest name by edit distance, for every error that names what exists. */

/**
 * The Levenshtein distance between two strings (insertions, deletions, substitutions).
 * @example editDistance("mnsit", "mnist") // 2
 */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[n];
}

/**
 * The candidate nearest to `word` when it is near enough to be a probable typo (at most a
 * third of the word's length away, at least one edit allowed; a candidate that starts with the
 * word counts too), else undefined.
 * @example closestName("mnsit", ["mnist", "cifar"]) // "mnist"
 */
export function closestName(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    if (c === word) return c;
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  if (bestD <= Math.max(1, Math.floor(word.length / 3)) && bestD < Math.max(word.length, 2)) return best;
  for (const c of candidates) if (word.length >= 2 && c.toLowerCase().startsWith(lower)) return c;
  return undefined;
}

/**
 * What exists, for an error message: `did you mean "mnist"? (there are "mnist", "cifar")`,
 * shortened to the first `max` names.
 */
export function didYouMean(word: string, candidates: readonly string[], what: string, max = 12): string {
  const near = closestName(word, candidates);
  const list = candidates.length === 0 ? `there are no ${what}` : `${what}: ${candidates.slice(0, max).map((c) => `"${c}"`).join(", ")}${candidates.length > max ? `, … (${candidates.length} in all)` : ""}`;
  return near !== undefined && near !== word ? `did you mean "${near}"? (${list})` : list;
}
