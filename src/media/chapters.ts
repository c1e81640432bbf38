/**
 * Chapters as people get them: the model's chapter starts moved onto the scene cut next to them
 * (the analysis keyframes are picked at scene changes: a chapter that starts on a cut starts on
 * the new shot, not a second before it), kept inside the video, in order, one per start, the first
 * at 0; and the WebVTT chapters track players list. Pure.
 */
import type { Chapter } from '../workflows/contracts';
import { formatVttTime, vttText } from './webvtt';

/** A chapter start moves onto a scene cut at most this far away. */
export const CHAPTER_SNAP_TOLERANCE_SEC = 2;
/** Two chapters closer than this are one (the first title stays). */
export const MIN_CHAPTER_SEC = 1;
/** Longest title kept. */
const MAX_TITLE_CHARS = 120;

const ms = (sec: number) => Math.round(sec * 1000) / 1000;

/**
 * Chapters bounded by the duration: starts before 0 become 0, starts at or past the end are
 * dropped, sorted, a start within MIN_CHAPTER_SEC of the previous one dropped, the first moved
 * to 0 (the opening belongs to the first chapter), empty titles dropped.
 */
export function boundChapters(chapters: readonly Chapter[] | null | undefined, durationSec: number): Chapter[] {
  const known = Number.isFinite(durationSec) && durationSec > 0;
  const usable = (chapters ?? [])
    .filter((c) => Number.isFinite(c.startSec) && typeof c.title === 'string' && vttText(c.title) !== '')
    .map((c) => ({ startSec: ms(Math.max(0, c.startSec)), title: vttText(c.title).slice(0, MAX_TITLE_CHARS) }))
    .filter((c) => !known || c.startSec < durationSec)
    .sort((a, b) => a.startSec - b.startSec);
  const out: Chapter[] = [];
  for (const c of usable) {
    const last = out.at(-1);
    if (last && c.startSec - last.startSec < MIN_CHAPTER_SEC) continue;
    out.push(c);
  }
  if (out[0]) out[0] = { ...out[0], startSec: 0 };
  // Moving the first to 0 may bring the second within the minimum of it.
  if (out[1] && out[1].startSec < MIN_CHAPTER_SEC) out.splice(1, 1);
  return out;
}

/**
 * Each chapter start moved to the nearest scene cut within `toleranceSec` (`cutsSec`: the
 * keyframe times of the analysis inputs), then bounded by the duration (boundChapters).
 */
export function snapChapters(
  chapters: readonly Chapter[] | null | undefined,
  cutsSec: readonly number[],
  durationSec: number,
  toleranceSec = CHAPTER_SNAP_TOLERANCE_SEC,
): Chapter[] {
  const cuts = cutsSec.filter((t) => Number.isFinite(t) && t >= 0);
  const snapped = (chapters ?? []).map((c) => {
    let best: number | undefined;
    for (const t of cuts) {
      const d = Math.abs(t - c.startSec);
      if (d <= toleranceSec && (best === undefined || d < Math.abs(best - c.startSec))) best = t;
    }
    return best === undefined ? c : { ...c, startSec: best };
  });
  return boundChapters(snapped, durationSec);
}

/** The WebVTT chapters track: chapter i spans [start_i, start_i+1), the last up to the duration. */
export function chaptersVtt(chapters: readonly Chapter[], durationSec: number): string {
  const bounded = boundChapters(chapters, durationSec);
  const lines = ['WEBVTT', ''];
  bounded.forEach((c, i) => {
    const end = bounded[i + 1]?.startSec ?? durationSec;
    if (!(end > c.startSec)) return;
    lines.push(`chapter-${i + 1}`, `${formatVttTime(c.startSec)} --> ${formatVttTime(end)}`, c.title, '');
  });
  return lines.join('\n');
}
