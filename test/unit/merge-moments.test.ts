import { mergeMoments } from '../../src/app/merge-moments';
import type { TextMoment } from '../../src/db/text-search-repo';

const said = (startSec: number, rank: number, exact = true): TextMoment => ({
  videoId: 'v',
  startSec,
  endSec: startSec + 3,
  text: `said at ${startSec}`,
  source: 'transcript',
  exact,
  rank,
});
const shown = (startSec: number, rank: number, exact = true): TextMoment => ({
  ...said(startSec, rank, exact),
  text: `shown at ${startSec}`,
  source: 'keyframe',
});

describe('mergeMoments: what is said and what is shown, best first', () => {
  test('a moment holding every query word comes before one holding some, whatever its source or rank', () => {
    const merged = mergeMoments([said(1, 0.9, false), shown(20, 0.1, true), said(5, 0.5, false)], 3);
    expect(merged.map((m) => m.text)).toEqual(['shown at 20', 'said at 1', 'said at 5']);
  });

  test('among equals, the better ranked first, then the earlier; a spoken moment first on a full tie', () => {
    const merged = mergeMoments([shown(8, 0.3), said(9, 0.6), shown(2, 0.6), said(8, 0.3)], 4);
    expect(merged.map((m) => [m.source, m.startSec])).toEqual([
      ['keyframe', 2],
      ['transcript', 9],
      ['transcript', 8],
      ['keyframe', 8],
    ]);
  });

  test('keeps at most the number asked for, and never changes its input', () => {
    const input = [said(1, 0.1), shown(2, 0.2), said(3, 0.3), shown(4, 0.4)];
    const copy = [...input];
    expect(mergeMoments(input, 2).map((m) => m.startSec)).toEqual([4, 3]);
    expect(input).toEqual(copy);
    expect(mergeMoments(input, 0)).toEqual([]);
    expect(mergeMoments([], 3)).toEqual([]);
  });
});
