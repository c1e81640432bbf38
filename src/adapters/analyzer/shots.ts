import { z } from 'zod';
import type { Shot } from '../../workflows/contracts';
import { truncate } from './truncate';

/** A description says what is seen in one frame: short enough for a search moment's line. */
export const MAX_SHOT_CHARS = 160;

/**
 * One entry of the answer's `shots`. Lenient on purpose: a bad entry is dropped, never the
 * answer (shots are a bonus; a repair costs a paid request). atSec may be missing: the entry's
 * position then says which keyframe it describes.
 */
const shotSchema = z.object({
  atSec: z.preprocess((v) => (v === null || v === undefined || v === '' ? undefined : v), z.coerce.number().finite().optional()),
  description: z.string(),
});

/**
 * The model's shots, bounded: only when keyframes were sent (a model that saw no image
 * describes nothing), each on the keyframe time nearest the one it gave (a model echoes times
 * imprecisely; search moments must land on the frame that was described), at most one per
 * keyframe (the first the answer gives), inside [0, duration], whitespace collapsed and cut to
 * MAX_SHOT_CHARS, in time order.
 */
export function cleanShots(raw: readonly unknown[], keyframeTimesSec: readonly number[], durationSec: number): Shot[] {
  const times = keyframeTimesSec.filter(Number.isFinite);
  if (times.length === 0) return [];
  const byTime = new Map<number, Shot>();
  raw.forEach((item, i) => {
    const parsed = shotSchema.safeParse(item);
    if (!parsed.success) return;
    const description = parsed.data.description.replace(/\s+/g, ' ').trim();
    if (!description) return;
    const at = parsed.data.atSec === undefined ? times[i] : nearest(times, parsed.data.atSec);
    if (at === undefined || byTime.has(at)) return;
    byTime.set(at, { atSec: clamp(at, durationSec), description: truncate(description, MAX_SHOT_CHARS) });
  });
  const out: Shot[] = [];
  // Keyframes past the end (a duration probed shorter than the frames' times) clamp to one second: keep it once.
  for (const shot of [...byTime.values()].sort((a, b) => a.atSec - b.atSec)) if (out.at(-1)?.atSec !== shot.atSec) out.push(shot);
  return out;
}

function nearest(times: readonly number[], t: number): number {
  return times.reduce((best, x) => (Math.abs(x - t) < Math.abs(best - t) ? x : best));
}

function clamp(t: number, durationSec: number): number {
  const upper = Number.isFinite(durationSec) && durationSec > 0 ? durationSec : Infinity;
  return Math.min(Math.max(0, t), upper);
}
