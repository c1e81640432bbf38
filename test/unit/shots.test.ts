import { cleanShots, MAX_SHOT_CHARS } from '../../src/adapters/analyzer/shots';

const TIMES = [0, 4, 10.5, 16];

describe('cleanShots: what the model says it saw, bounded', () => {
  test('keeps one shot per keyframe, on the keyframe time nearest the one the model gave, in time order', () => {
    const shots = cleanShots(
      [
        { atSec: 10.4, description: 'a red car' },
        { atSec: 0.2, description: 'a blue sky' },
        { atSec: 10.6, description: 'the same red car again' }, // nearest keyframe 10.5 is taken: dropped
        { atSec: '16', description: 'a green field' }, // a number as a string still counts
      ],
      TIMES,
      20,
    );
    expect(shots).toEqual([
      { atSec: 0, description: 'a blue sky' },
      { atSec: 10.5, description: 'a red car' },
      { atSec: 16, description: 'a green field' },
    ]);
  });

  test('never more shots than keyframes, whatever the model answers', () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ atSec: i, description: `frame ${i}` }));
    const shots = cleanShots(many, TIMES, 20);
    expect(shots).toHaveLength(TIMES.length);
    expect(shots.map((s) => s.atSec)).toEqual(TIMES);
  });

  test('none without keyframes: a model that saw no image describes nothing', () => {
    expect(cleanShots([{ atSec: 1, description: 'a red car' }], [], 20)).toEqual([]);
  });

  test('clamps times into [0, duration] and keeps a clamped second once', () => {
    const shots = cleanShots(
      [
        { atSec: 31, description: 'late one' },
        { atSec: 40, description: 'later one' },
      ],
      [31, 40],
      30,
    );
    expect(shots).toEqual([{ atSec: 30, description: 'late one' }]);
    expect(cleanShots([{ atSec: -3, description: 'x' }], [-1, 5], 30)).toEqual([{ atSec: 0, description: 'x' }]);
  });

  test('collapses whitespace and cuts long descriptions to 160 characters with an ellipsis, by code point', () => {
    const long = `${'🚗 '.repeat(200)}`;
    const [shot] = cleanShots([{ atSec: 0, description: `  a   red\n car  ${long}` }], TIMES, 20);
    expect(Array.from(shot!.description)).toHaveLength(MAX_SHOT_CHARS);
    expect(shot!.description.startsWith('a red car 🚗')).toBe(true);
    expect(shot!.description.endsWith('…')).toBe(true);
    expect(shot!.description).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/); // no lone high surrogate
  });

  test('drops malformed entries and empty descriptions; an entry without a time describes the keyframe at its position', () => {
    const shots = cleanShots(
      [
        'a red car',
        { atSec: 'soon', description: 'bad time' },
        { description: 'third keyframe, no time given' },
        { atSec: 16, description: '   ' },
        { atSec: 4, description: 42 },
        null,
      ],
      TIMES,
      20,
    );
    expect(shots).toEqual([{ atSec: 10.5, description: 'third keyframe, no time given' }]);
  });
});
