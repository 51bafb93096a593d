/**
 * "Did you mean …?" for unknown keys and node ids.
 *
 * @module
 */

/** Levenshtein distance of `a` and `b`, or `limit + 1` as soon as it exceeds `limit`. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length]!;
}

const fold = (s: string) => s.toLowerCase().replace(/[-_\s]/g, "");

/**
 * The candidate closest to `input`: a case/separator-insensitive match first
 * (`allow_failure` → `allowFailure`), then the smallest edit distance within about half the
 * word, then a candidate that `input` starts (`retry` → `retries`).
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const folded = fold(input);
  const limit = Math.max(2, Math.floor(input.length / 2));
  let best: string | undefined;
  let bestDistance = limit + 1;
  let prefixMatch: string | undefined;
  for (const candidate of candidates) {
    const foldedCandidate = fold(candidate);
    if (foldedCandidate === folded) return candidate;
    const distance = editDistance(folded, foldedCandidate, bestDistance - 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
    if (!prefixMatch && folded.length >= 3 && foldedCandidate.startsWith(folded.slice(0, -1))) {
      prefixMatch = candidate;
    }
  }
  return best ?? prefixMatch;
}

/** `Did you mean "x"?` or, without a close match, the list of what is allowed. */
export function didYouMean(input: string, candidates: readonly string[], noun = "keys"): string {
  const match = closest(input, candidates);
  if (match) return `Did you mean "${match}"?`;
  return `Allowed ${noun}: ${candidates.join(", ")}`;
}
