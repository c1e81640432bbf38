import { boundChapters, chaptersVtt, snapChapters } from '../../src/media/chapters';

const ch = (startSec: number, title = `at ${startSec}`) => ({ startSec, title });

describe('snapChapters', () => {
  test('moves a start onto the nearest scene cut within 2 s, leaves one with no cut near it', () => {
    const out = snapChapters([ch(0), ch(29.2), ch(61), ch(100)], [0.4, 30.04, 59.9, 62.5, 95], 150);
    expect(out.map((c) => c.startSec)).toEqual([0, 30.04, 59.9, 100]);
  });

  test('a cut 2.5 s away is too far', () => {
    expect(snapChapters([ch(0), ch(40)], [42.5], 60).map((c) => c.startSec)).toEqual([0, 40]);
  });

  test('two chapters snapped onto one cut become one (the first title stays)', () => {
    const out = snapChapters([ch(0), ch(20, 'first'), ch(21.5, 'second')], [20.8], 60);
    expect(out).toEqual([ch(0), { startSec: 20.8, title: 'first' }]);
  });
});

describe('boundChapters', () => {
  test('sorted, inside [0, duration), first at 0, no duplicates', () => {
    const out = boundChapters([ch(50), ch(-3, 'before'), ch(120, 'past the end'), ch(90), ch(90.4, 'dup'), ch(10)], 100);
    expect(out).toEqual([ch(0, 'before'), ch(10), ch(50), ch(90)]);
  });

  test('a first chapter after 0 starts at 0', () => {
    expect(boundChapters([ch(5, 'intro'), ch(30)], 60)).toEqual([ch(0, 'intro'), ch(30)]);
  });

  test('drops empty titles and non-numbers; nothing in → nothing out', () => {
    expect(boundChapters([ch(Number.NaN), ch(3, '  ')], 10)).toEqual([]);
    expect(boundChapters(undefined, 10)).toEqual([]);
  });

  test('a chapter at the very end is dropped (it would last 0 s)', () => {
    expect(boundChapters([ch(0), ch(60)], 60)).toEqual([ch(0)]);
  });
});

describe('chaptersVtt', () => {
  test('each chapter lasts until the next, the last until the duration; titles cannot break cues', () => {
    expect(chaptersVtt([ch(0, 'Opening'), ch(42.5, 'Cranes --> at\nwork')], 90.25)).toBe(
      [
        'WEBVTT',
        '',
        'chapter-1',
        '00:00:00.000 --> 00:00:42.500',
        'Opening',
        '',
        'chapter-2',
        '00:00:42.500 --> 00:01:30.250',
        'Cranes → at work',
        '',
      ].join('\n'),
    );
  });
});
