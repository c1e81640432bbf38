import type { TextMoment } from '../db/text-search-repo';

/**
 * One video's moments from both sources (what is said, what is shown), best first: those
 * holding every query word before those holding some, then by ts_rank against the query's OR
 * form (both sources are ranked the same way, so their scores compare), then earliest first;
 * on a full tie the spoken moment first (a transcript is the words themselves, a description
 * a model's reading of a frame). At most `max`.
 */
export function mergeMoments(moments: readonly TextMoment[], max: number): TextMoment[] {
  return [...moments]
    .sort(
      (a, b) =>
        Number(b.exact) - Number(a.exact) ||
        b.rank - a.rank ||
        a.startSec - b.startSec ||
        (a.source === b.source ? 0 : a.source === 'transcript' ? -1 : 1),
    )
    .slice(0, Math.max(0, max));
}
