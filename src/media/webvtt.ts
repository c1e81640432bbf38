/** WebVTT pieces shared by the storyboard and chapter tracks. */

/** `HH:MM:SS.mmm`, the cue timestamp form every player reads (hours always written). */
export function formatVttTime(sec: number): string {
  const ms = Math.max(0, Math.round(sec * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** Cue text must not hold a blank line or `-->` (either would end or break the cue). */
export function vttText(text: string): string {
  return text
    .replace(/-->/g, '→')
    .replace(/[\r\n]+/g, ' ')
    .trim();
}
