/** The value at percentile `p` of `xs` (any order): the one at index floor(p% of the count), sorted ascending. */
export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
