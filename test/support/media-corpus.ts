import { execFileSync } from 'node:child_process';
import { mkdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { idetSaysInterlaced } from '../../src/media/probe';
import { lastErrorLine, runProcess } from '../../src/media/run-process';

/** Generated media for the hardening tests (lavfi sources: no media files in git), small and short. */
export async function ffmpeg(args: string[]): Promise<void> {
  const res = await runProcess('ffmpeg', ['-hide_banner', '-nostdin', '-y', '-v', 'error', ...args]);
  if (res.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${lastErrorLine(res.stderrTail)}`);
}

/**
 * A generated file kept between runs in `<os tmp>/biblio-media-cache/` (minutes-long clips take
 * a minute or two to encode on two shared cores). Written under a temporary name and renamed,
 * so an interrupted run never leaves a half file that a later run would trust.
 */
export async function cachedMedia(name: string, make: (file: string) => Promise<void>): Promise<string> {
  const dir = path.join(os.tmpdir(), 'biblio-media-cache');
  const file = path.join(dir, name);
  if ((await stat(file).catch(() => undefined))?.size) return file;
  await mkdir(dir, { recursive: true });
  const partial = path.join(dir, `.${process.pid}-${name}`);
  try {
    await make(partial);
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
  return file;
}

/** What users upload: `seconds` of 1280x720 at 30 fps with a tone (the 5-minute clip). */
export function hdClipArgs(seconds: number): string[] {
  return [
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=1280x720:rate=30:duration=${seconds}`,
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=440:duration=${seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '28',
    '-c:a',
    'aac',
    '-shortest',
    '-f',
    'mp4',
  ];
}

const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1'];
const clip = (seconds: number, size = '320x240', rate = 25) => [
  '-f',
  'lavfi',
  '-i',
  `testsrc2=size=${size}:rate=${rate}:duration=${seconds}`,
];
const tone = (seconds: number, freq = 440) => ['-f', 'lavfi', '-i', `sine=frequency=${freq}:sample_rate=48000:duration=${seconds}`];

/** Kinds of broken upload, each with the typed reason it must be dead-lettered with. */
export const BROKEN: { name: string; file: string; type: string; make: (file: string) => Promise<void> }[] = [
  { name: 'text', file: 'notes.mp4', type: 'InvalidMedia', make: (f) => writeFile(f, 'this is a text file pretending to be a video\n') },
  { name: 'audio-only', file: 'tone.mp4', type: 'NoVideoStream', make: (f) => ffmpeg([...tone(2), '-c:a', 'aac', f]) },
  {
    name: 'still-image',
    file: 'still.mp4',
    type: 'NotAVideo',
    make: (f) => ffmpeg([...clip(1), '-frames:v', '1', '-c:v', 'png', '-f', 'image2', '-update', '1', f]),
  },
  { name: 'one-frame', file: 'oneframe.mp4', type: 'MediaTooShort', make: (f) => ffmpeg([...clip(1), '-frames:v', '1', ...X264, f]) },
  { name: 'absurd-width', file: 'wide.mp4', type: 'MediaTooLarge', make: (f) => ffmpeg([...clip(1, '2048x32'), ...X264, f]) },
  { name: 'too-long', file: 'long.mp4', type: 'MediaTooLong', make: (f) => ffmpeg([...clip(40, '32x32', 1), ...X264, f]) },
  {
    name: 'truncated',
    file: 'truncated.mp4',
    type: 'TruncatedMedia',
    make: async (f) => {
      await ffmpeg([...clip(4), ...tone(4), ...X264, '-c:a', 'aac', '-shortest', '-movflags', '+faststart', f]);
      const size = Number(execFileSync('stat', ['-c', '%s', f], { encoding: 'utf8' }).trim());
      await truncate(f, Math.floor(size / 2));
    },
  },
  {
    name: 'over-size-cap',
    file: 'huge.mp4',
    type: 'SourceTooLarge',
    make: async (f) => {
      await writeFile(f, '');
      await truncate(f, 9_000_000); // sparse: costs no disk
    },
  },
];

export interface AwkwardCase {
  name: string;
  file: string;
  make: (file: string, dir: string) => Promise<void>;
  /** Extra expectations on the rendition beyond the common ones. */
  expect: { interlacedSource?: boolean; portrait?: boolean; audio?: boolean; maxFramesOf?: 'source' };
}

/** Valid uploads that are awkward to handle: each must end ready with a browser-playable rendition. */
export const AWKWARD: AwkwardCase[] = [
  {
    name: 'interlaced',
    file: 'interlaced.mkv',
    make: (f) =>
      ffmpeg([...clip(3, '320x240', 50), '-vf', 'tinterlace=mode=interleave_top', ...X264, '-flags', '+ildct+ilme', '-top', '1', f]),
    expect: { interlacedSource: true },
  },
  {
    name: 'rotated',
    file: 'rotated.mp4',
    make: async (f, dir) => {
      const plain = path.join(dir, 'rotated-plain.mp4');
      await ffmpeg([...clip(2), ...X264, plain]);
      await ffmpeg(['-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', f]);
    },
    expect: { portrait: true },
  },
  {
    name: '10-bit 4:4:4 odd size',
    file: 'hi444.mkv',
    make: (f) => ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=321x241:rate=25:duration=2', ...X264, '-pix_fmt', 'yuv444p10le', f]),
    expect: {},
  },
  {
    name: 'default audio track is the second',
    file: 'multiaudio.mkv',
    make: (f) =>
      ffmpeg([
        ...clip(2),
        '-f',
        'lavfi',
        '-i',
        'anullsrc=sample_rate=48000:channel_layout=stereo',
        ...tone(2),
        '-map',
        '0:v',
        '-map',
        '1:a',
        '-map',
        '2:a',
        ...X264,
        '-c:a',
        'aac',
        '-disposition:a:0',
        '0',
        '-disposition:a:1',
        'default',
        '-t',
        '2',
        f,
      ]),
    expect: { audio: true },
  },
  {
    name: 'subtitle stream',
    file: 'subs.mkv',
    make: async (f, dir) => {
      const srt = path.join(dir, 'subs.srt');
      await writeFile(srt, '1\n00:00:00,000 --> 00:00:01,500\nHello\n\n');
      await ffmpeg([...clip(2), '-i', srt, '-map', '0', '-map', '1', ...X264, '-c:s', 'srt', f]);
    },
    expect: {},
  },
  {
    name: 'timecode data track',
    file: 'timecode.mov',
    make: (f) => ffmpeg([...clip(2), ...tone(2), ...X264, '-c:a', 'aac', '-shortest', '-timecode', '00:00:10:00', f]),
    expect: {},
  },
  {
    name: 'variable frame rate',
    file: 'vfr.mp4',
    make: (f) => ffmpeg([...clip(4, '320x240', 30), '-vf', "select='lt(mod(n\\,10)\\,4)'", '-fps_mode', 'vfr', ...X264, f]),
    expect: { maxFramesOf: 'source' },
  },
  { name: 'no audio', file: 'silent.mp4', make: (f) => ffmpeg([...clip(2), ...X264, f]), expect: { audio: false } },
  {
    name: 'hostile file name',
    file: `-dash 'single' "double" é $(x).mp4`,
    // f is absolute, so the leading dash of the name never reaches ffmpeg as an option.
    make: (f) => ffmpeg([...clip(2), ...tone(2), ...X264, '-c:a', 'aac', '-shortest', f]),
    expect: {},
  },
  {
    name: 'AVI content named .mp4',
    file: 'really-avi.mp4',
    make: (f) => ffmpeg([...clip(2), '-c:v', 'mpeg4', '-f', 'avi', f]),
    expect: {},
  },
  {
    name: 'no extension',
    file: 'noextension',
    make: (f) => ffmpeg([...clip(2), ...tone(2), ...X264, '-c:a', 'aac', '-shortest', '-f', 'matroska', f]),
    expect: {},
  },
];

export async function probeJson(
  file: string,
  extra: string[] = [],
): Promise<{
  streams: Record<string, unknown>[];
  format: Record<string, unknown>;
}> {
  const res = await runProcess('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...extra, file]);
  return JSON.parse(res.stdout) as { streams: Record<string, unknown>[]; format: Record<string, unknown> };
}

export async function interlacedByIdet(file: string): Promise<boolean | undefined> {
  const res = await runProcess('ffmpeg', [
    '-hide_banner',
    '-nostdin',
    '-i',
    file,
    '-map',
    '0:v:0',
    '-vf',
    'idet',
    '-an',
    '-f',
    'null',
    '-',
  ]);
  return idetSaysInterlaced(res.stderrTail);
}

export async function meanVolumeDb(file: string): Promise<number> {
  const res = await runProcess('ffmpeg', [
    '-hide_banner',
    '-nostdin',
    '-i',
    file,
    '-map',
    '0:a:0',
    '-af',
    'volumedetect',
    '-f',
    'null',
    '-',
  ]);
  const m = /mean_volume:\s*(-?[\d.]+|-inf) dB/.exec(res.stderrTail);
  return m && m[1] !== '-inf' ? Number(m[1]) : -Infinity;
}
