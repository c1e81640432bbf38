import {
  DEFAULT_STORYBOARD,
  sheetLayout,
  spriteSheetArgs,
  storyboardCues,
  storyboardInterval,
  storyboardVtt,
  storyboardVttWithToken,
  STORYBOARD_FILE,
  thumbnailTilesArgs,
  tileCount,
  tileSize,
} from '../../src/media/storyboard';
import { formatVttTime } from '../../src/media/webvtt';

const RUN = 'a1b2c3d4e5f6';

describe('storyboardInterval', () => {
  test.each([
    [5, 2],
    [150, 2],
    [300, 3],
    [600, 6],
    [1000, 10],
    [3600, 10],
    // past maxTiles × maxInterval the tile bound wins: 4 h → at most 1000 tiles
    [4 * 3600, 15],
  ])('%d s of video → a thumbnail every %d s', (duration, interval) => {
    expect(storyboardInterval(duration)).toBe(interval);
    expect(tileCount(duration, interval)).toBeLessThanOrEqual(DEFAULT_STORYBOARD.maxTiles);
  });

  test('an unknown duration gets the shortest interval', () => {
    expect(storyboardInterval(Number.NaN)).toBe(2);
  });
});

describe('tileSize', () => {
  test('landscape tiles are 160 wide, portrait ones 160 high, both sides even', () => {
    expect(tileSize(1280, 720, 160)).toEqual({ width: 160, height: 90 });
    expect(tileSize(640, 360, 160)).toEqual({ width: 160, height: 90 });
    expect(tileSize(720, 1280, 160)).toEqual({ width: 90, height: 160 });
    expect(tileSize(640, 480, 160)).toEqual({ width: 160, height: 120 });
    expect(tileSize(1000, 333, 160)).toEqual({ width: 160, height: 54 });
  });
});

describe('sheetLayout', () => {
  test('full sheets of 10 × 10, the last cut to the rows it needs', () => {
    expect(sheetLayout(250).map((s) => [s.index, s.firstTile, s.tiles, s.columns, s.rows])).toEqual([
      [0, 0, 100, 10, 10],
      [1, 100, 100, 10, 10],
      [2, 200, 50, 10, 5],
    ]);
  });
  test('fewer than 10 tiles make one row', () => {
    expect(sheetLayout(4)).toEqual([{ index: 0, firstTile: 0, tiles: 4, columns: 4, rows: 1 }]);
  });
});

describe('storyboardCues', () => {
  const tile = { width: 160, height: 90 };

  test('cover [0, duration) without gap or overlap, the last ending at the duration', () => {
    const durationSec = 150.04;
    const intervalSec = storyboardInterval(durationSec);
    const tiles = tileCount(durationSec, intervalSec);
    const cues = storyboardCues({ durationSec, intervalSec, tiles, tile, run: RUN });
    expect(cues).toHaveLength(76);
    expect(cues[0]!.startSec).toBe(0);
    for (let i = 1; i < cues.length; i++) expect(cues[i]!.startSec).toBe(cues[i - 1]!.endSec);
    expect(cues.at(-1)!.endSec).toBe(durationSec);
  });

  test('tile k sits at column k mod 10, row k div 10 of its sheet', () => {
    const cues = storyboardCues({ durationSec: 500, intervalSec: 2, tiles: 250, tile, run: RUN });
    expect(cues[0]).toMatchObject({ sprite: `sprite-${RUN}-000.jpg`, x: 0, y: 0, w: 160, h: 90 });
    expect(cues[13]).toMatchObject({ sprite: `sprite-${RUN}-000.jpg`, x: 3 * 160, y: 90 });
    expect(cues[99]).toMatchObject({ sprite: `sprite-${RUN}-000.jpg`, x: 9 * 160, y: 9 * 90 });
    expect(cues[100]).toMatchObject({ sprite: `sprite-${RUN}-001.jpg`, x: 0, y: 0 });
    expect(cues[249]).toMatchObject({ sprite: `sprite-${RUN}-002.jpg`, x: 9 * 160, y: 4 * 90, startSec: 498, endSec: 500 });
    // Every sheet stays within 10 × 10 tiles.
    for (const c of cues) expect([c.x + c.w <= 1600, c.y + c.h <= 900]).toEqual([true, true]);
  });

  test('fewer thumbnails than the interval asks for: the last cue stretches to the end', () => {
    const cues = storyboardCues({ durationSec: 10, intervalSec: 2, tiles: 4, tile, run: RUN });
    expect(cues.map((c) => [c.startSec, c.endSec])).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 10],
    ]);
  });
});

describe('storyboardVtt', () => {
  test('is a WebVTT thumbnail track whose sprites are names the API serves', () => {
    const vtt = storyboardVtt(storyboardCues({ durationSec: 3.5, intervalSec: 2, tiles: 2, tile: { width: 160, height: 90 }, run: RUN }));
    expect(vtt).toBe(
      [
        'WEBVTT',
        '',
        '00:00:00.000 --> 00:00:02.000',
        `sprite-${RUN}-000.jpg#xywh=0,0,160,90`,
        '',
        '00:00:02.000 --> 00:00:03.500',
        `sprite-${RUN}-000.jpg#xywh=160,0,160,90`,
        '',
      ].join('\n'),
    );
    expect(STORYBOARD_FILE.test(`sprite-${RUN}-000.jpg`)).toBe(true);
    expect(STORYBOARD_FILE.test('storyboard.vtt')).toBe(true);
    expect(STORYBOARD_FILE.test('../rendition.mp4')).toBe(false);
  });

  test('formats hours, minutes and milliseconds', () => {
    expect(formatVttTime(3723.4567)).toBe('01:02:03.457');
  });
});

describe('ffmpeg arguments', () => {
  test('pass 1 samples one frame per interval at tile size, reporting progress', () => {
    const args = thumbnailTilesArgs({
      input: 'in.mp4',
      outPattern: 'out/t-%05d.jpg',
      intervalSec: 3,
      tile: { width: 160, height: 90 },
      threads: 1,
    });
    expect(args.join(' ')).toContain('-vf fps=1/3,scale=160:90');
    expect(args).toContain('-progress');
    expect(args.at(-1)).toBe('out/t-%05d.jpg');
  });
  test('pass 2 tiles one sheet from its first tile', () => {
    const [, second] = sheetLayout(150);
    const args = spriteSheetArgs({ inPattern: 't-%05d.jpg', sheet: second!, output: 's.jpg' });
    expect(args.join(' ')).toContain('-start_number 101 -i t-%05d.jpg');
    expect(args.join(' ')).toContain('tile=10x5');
  });
});

describe('storyboardVttWithToken', () => {
  test('adds the token to every sprite URL, before its fragment, and to nothing else', () => {
    const vtt = storyboardVtt(storyboardCues({ durationSec: 3, intervalSec: 2, tiles: 2, tile: { width: 160, height: 90 }, run: RUN }));
    const out = storyboardVttWithToken(vtt, 'k 1');
    expect(out).toContain(`sprite-${RUN}-000.jpg?access_token=k%201#xywh=0,0,160,90`);
    expect(out.split('\n').filter((l) => l.includes('access_token'))).toHaveLength(2);
    expect(out.startsWith('WEBVTT\n')).toBe(true);
  });
});
