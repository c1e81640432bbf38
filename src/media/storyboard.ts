/**
 * Scrub previews (a storyboard): thumbnails of the rendition at a fixed interval, laid out in
 * sprite sheets of at most `SHEET_COLUMNS` × `SHEET_ROWS` tiles, and a WebVTT thumbnail track
 * whose cue for [t, t + interval) names the sheet and the tile (`sprite-….jpg#xywh=x,y,w,h`), the
 * format players' thumbnail plugins and our dashboard read. Pure: the layout, the interval, the
 * track and the ffmpeg arguments; the activity (src/activities/media/storyboard.ts) runs them.
 */
import { formatVttTime } from './webvtt';

/** Tiles per row and rows per sheet: a sheet is at most 10 × 10 tiles (1600 × 1600 px at 160 px tiles). */
export const SHEET_COLUMNS = 10;
export const SHEET_ROWS = 10;
export const TILES_PER_SHEET = SHEET_COLUMNS * SHEET_ROWS;

export interface StoryboardSettings {
  /** Shortest interval between two thumbnails, in seconds (short videos). */
  minIntervalSec: number;
  /** Longest interval, as long as the tile bound allows it (long videos). */
  maxIntervalSec: number;
  /** Most thumbnails of one video: past it the interval grows beyond `maxIntervalSec`. */
  maxTiles: number;
  /** Longest side of a tile, in pixels. */
  tileMaxSide: number;
}

export const DEFAULT_STORYBOARD: StoryboardSettings = { minIntervalSec: 2, maxIntervalSec: 10, maxTiles: 1000, tileMaxSide: 160 };

/**
 * Seconds between thumbnails: about one sheet's worth for the video (a 5-minute video gets a
 * thumbnail every 3 s), never closer than `minIntervalSec`, never farther than `maxIntervalSec`
 * unless the video is so long that `maxTiles` would be passed. Whole seconds: cue times stay exact.
 */
export function storyboardInterval(durationSec: number, s: StoryboardSettings = DEFAULT_STORYBOARD): number {
  if (!(durationSec > 0)) return s.minIntervalSec;
  const perSheet = Math.ceil(durationSec / TILES_PER_SHEET);
  const clamped = Math.min(s.maxIntervalSec, Math.max(s.minIntervalSec, perSheet));
  return Math.max(clamped, Math.ceil(durationSec / s.maxTiles));
}

/** How many thumbnails cover [0, duration) at `intervalSec` (at least one). */
export function tileCount(durationSec: number, intervalSec: number): number {
  return Math.max(1, Math.ceil(durationSec / intervalSec - 1e-9));
}

/** The tile size for a video of `width` × `height`: the longest side `maxSide`, both sides even. */
export function tileSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
  if (!(width > 0 && height > 0)) return { width: even(maxSide), height: even((maxSide * 9) / 16) };
  return width >= height
    ? { width: even(maxSide), height: even((maxSide * height) / width) }
    : { width: even((maxSide * width) / height), height: even(maxSide) };
}

/** One sheet: which tiles it holds and its grid (the last sheet may have fewer rows). */
export interface SheetLayout {
  index: number;
  /** Index of its first tile among all tiles. */
  firstTile: number;
  tiles: number;
  columns: number;
  rows: number;
}

/** The sheets of `tiles` thumbnails: full sheets of 10 × 10, the last one cut to the rows it needs. */
export function sheetLayout(tiles: number): SheetLayout[] {
  const sheets: SheetLayout[] = [];
  for (let first = 0, index = 0; first < tiles; first += TILES_PER_SHEET, index++) {
    const n = Math.min(TILES_PER_SHEET, tiles - first);
    const columns = Math.min(SHEET_COLUMNS, tiles);
    sheets.push({ index, firstTile: first, tiles: n, columns, rows: Math.ceil(n / columns) });
  }
  return sheets;
}

/** `sprite-<run>-000.jpg`: the run token keeps two attempts' sheets apart (the VTT names the one it publishes). */
export function spriteName(run: string, sheet: number): string {
  return `sprite-${run}-${String(sheet).padStart(3, '0')}.jpg`;
}

export const STORYBOARD_VTT = 'storyboard.vtt';
/** The names the storyboard folder holds: what the API serves, and nothing else. */
export const STORYBOARD_FILE = /^(?:storyboard\.vtt|sprite-[0-9a-f]{12}-\d{3}\.jpg)$/;

export interface StoryboardCue {
  startSec: number;
  endSec: number;
  sprite: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * The cues: tile k shows [k·interval, (k+1)·interval), the last one ends at the duration, so
 * the track covers [0, duration) without a gap or an overlap.
 */
export function storyboardCues(o: {
  durationSec: number;
  intervalSec: number;
  tiles: number;
  tile: { width: number; height: number };
  run: string;
}): StoryboardCue[] {
  const cues: StoryboardCue[] = [];
  for (const sheet of sheetLayout(o.tiles)) {
    for (let i = 0; i < sheet.tiles; i++) {
      const k = sheet.firstTile + i;
      const startSec = k * o.intervalSec;
      const endSec = k === o.tiles - 1 ? o.durationSec : Math.min(o.durationSec, (k + 1) * o.intervalSec);
      if (!(endSec > startSec)) break;
      cues.push({
        startSec,
        endSec,
        sprite: spriteName(o.run, sheet.index),
        x: (i % sheet.columns) * o.tile.width,
        y: Math.floor(i / sheet.columns) * o.tile.height,
        w: o.tile.width,
        h: o.tile.height,
      });
    }
  }
  return cues;
}

/** The WebVTT thumbnail track; sprite URLs are relative to the track (same folder). */
export function storyboardVtt(cues: StoryboardCue[]): string {
  const lines = ['WEBVTT', ''];
  for (const c of cues) {
    lines.push(`${formatVttTime(c.startSec)} --> ${formatVttTime(c.endSec)}`, `${c.sprite}#xywh=${c.x},${c.y},${c.w},${c.h}`, '');
  }
  return lines.join('\n');
}

/**
 * Pass 1: one small JPEG per interval from the rendition (`<outDir>/t-00001.jpg` …). The loop
 * filter is skipped while decoding: the decode is the whole cost, and a 160-pixel tile does not
 * show the difference.
 */
export function thumbnailTilesArgs(o: {
  input: string;
  outPattern: string;
  intervalSec: number;
  tile: { width: number; height: number };
  threads: number;
}): string[] {
  // prettier-ignore
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    '-skip_loop_filter', 'all', '-threads', String(o.threads),
    '-i', o.input,
    '-map', '0:v:0', '-an', '-sn', '-dn',
    '-vf', `fps=1/${o.intervalSec},scale=${o.tile.width}:${o.tile.height}:flags=bilinear,setsar=1`,
    '-q:v', '2', '-f', 'image2',
    '-progress', 'pipe:1',
    o.outPattern,
  ];
}

/**
 * Pass 2: the tiles of one sheet, read in order from its first, tiled into one JPEG (the first
 * grid is the sheet; a last sheet with fewer tiles is written when its input ends).
 */
export function spriteSheetArgs(o: { inPattern: string; sheet: SheetLayout; output: string }): string[] {
  // prettier-ignore
  return [
    '-hide_banner', '-nostdin', '-y', '-loglevel', 'error',
    '-framerate', '1', '-start_number', String(o.sheet.firstTile + 1), '-i', o.inPattern,
    '-vf', `tile=${o.sheet.columns}x${o.sheet.rows}`,
    '-frames:v', '1', '-q:v', '4', '-update', '1',
    o.output,
  ];
}

/**
 * The track as served to a client that authenticates with `?access_token=` (an `<img>` or a
 * CSS background cannot send a header): every sprite URL carries the token, before its `#xywh`.
 */
export function storyboardVttWithToken(vtt: string, token: string): string {
  const q = `access_token=${encodeURIComponent(token)}`;
  return vtt
    .split('\n')
    .map((line) => line.replace(/^(sprite-[0-9a-f]{12}-\d{3}\.jpg)(#xywh=\d+,\d+,\d+,\d+)$/, `$1?${q}$2`))
    .join('\n');
}
