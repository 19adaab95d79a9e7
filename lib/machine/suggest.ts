// "Did you mean …?" for mistyped names (machine file keys, template names): pure.

/** Edit distance with adjacent transpositions (optimal string alignment): "memroy" is one edit from "memory". */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidates `word` was probably meant to be, best first (at most `limit`): the same ignoring case, then a
 * small edit away (a third of the word's length, at least one), then names it starts ("debian" → "debian-12").
 */
export function closestNames(word: string, candidates: readonly string[], limit = 3): string[] {
  const lower = word.toLowerCase();
  const budget = Math.max(1, Math.floor(lower.length / 3));
  const scored = candidates.flatMap((candidate) => {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= budget) return [{ candidate, score: distance }];
    if (lower.length >= 3 && candidate.toLowerCase().startsWith(lower))
      return [{ candidate, score: budget + 1 }];
    return [];
  });
  return scored
    .sort((x, y) => x.score - y.score || x.candidate.localeCompare(y.candidate))
    .slice(0, limit)
    .map((s) => s.candidate);
}

/** " (did you mean 'x' or 'y'?)"-style text, or '' when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const close = closestNames(word, candidates).map((name) => `'${name}'`);
  if (close.length === 0) return '';
  const list = close.length === 1 ? close[0] : `${close.slice(0, -1).join(', ')} or ${close.at(-1)}`;
  return `did you mean ${list}?`;
}
