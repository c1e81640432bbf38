/** Cuts to at most `max` characters by code point (an emoji is never split into a lone surrogate), marking the cut with "…". */
export function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max
    ? s
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}
