import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createMediaActivities } from '../../src/activities/media';
import { createHlsActivities } from '../../src/activities/media/hls';
import { loadConfig } from '../../src/config';
import { parseMasterPlaylist, parseMediaPlaylist } from '../../src/media/hls-playlist';
import type { HlsOutput, TranscodeInput, TranscodeOutput } from '../../src/workflows/contracts';
import { ffmpeg, interlacedByIdet, probeJson } from '../support/media-corpus';
import { localStore } from '../support/media';

// HLS for any input the MP4 path accepts: each awkward source goes through the real transcode
// and packageHls activities (MockActivityEnvironment, real ffmpeg) on the product's defaults
// (preset, threads, rendition size, limits, HLS segment length), and every rung of the ladder
// must keep the rendition's frames and timing: same frame count, same last frame, and a
// playlist that adds up to the video's duration.
const defaults = loadConfig({});
const SEGMENT_SEC = defaults.media.segmentSec;
/** Durations compared below may differ by this much (a frame or two of B-frame reordering). */
const TOLERANCE_SEC = 0.15;

let root: string;
let ingest: string;
let mediaDir: string;
let media: ReturnType<typeof createMediaActivities>;
let hls: ReturnType<typeof createHlsActivities>;

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const lavfi = (graph: string) => ['-f', 'lavfi', '-i', graph];
const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-threads', '1'];
const AAC = ['-c:a', 'aac'];

/** 24, 30 and 60 fps parts in one file (a phone switching rates as the light changes). */
async function threeRates(file: string, size: string): Promise<void> {
  // prettier-ignore
  await ffmpeg([
    ...lavfi(`testsrc2=size=${size}:rate=24:duration=5`),
    ...lavfi(`testsrc2=size=${size}:rate=30:duration=5`),
    ...lavfi(`testsrc2=size=${size}:rate=60:duration=4`),
    ...lavfi('sine=frequency=440:sample_rate=48000:duration=14'),
    // A common time base first: concat needs it, and the parts keep their own frame times.
    '-filter_complex', '[0:v]settb=1/960[a];[1:v]settb=1/960[b];[2:v]settb=1/960[c];[a][b][c]concat=n=3:v=1:a=0[v]',
    '-map', '[v]', '-map', '3:a', '-fps_mode', 'vfr', ...X264, ...AAC, file,
  ]);
}

interface Case {
  name: string;
  file: string;
  make: (file: string) => Promise<void>;
  expect: { portrait?: boolean; audio: boolean; interlacedSource?: boolean };
}

const CASES: Case[] = [
  {
    name: 'variable frame rate: 24, 30 and 60 fps in one file',
    file: 'vfr.mp4',
    make: (f) => threeRates(f, '1280x720'),
    expect: { audio: true },
  },
  {
    name: 'phone-style portrait: landscape pixels with rotate=90, variable frame rate',
    file: 'phone.mp4',
    make: async (f) => {
      const landscape = `${f}.landscape.mp4`;
      await threeRates(landscape, '1280x720');
      // What a phone writes: the pixels stay landscape, a display matrix turns them (stream copy).
      await ffmpeg(['-i', landscape, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', f]);
      await rm(landscape);
    },
    expect: { portrait: true, audio: true },
  },
  {
    name: 'odd size',
    file: 'odd.mkv',
    // 4:4:4: 4:2:0 cannot have odd sides (the rendition's job is to make them even).
    make: (f) =>
      ffmpeg([
        ...lavfi('testsrc=size=641x363:rate=25:duration=12'),
        ...lavfi('sine=duration=12'),
        ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p', '-threads', '1'],
        ...AAC,
        f,
      ]),
    expect: { audio: true },
  },
  {
    name: 'no audio',
    file: 'silent.mp4',
    make: (f) => ffmpeg([...lavfi('testsrc2=size=640x360:rate=30:duration=12'), ...X264, f]),
    expect: { audio: false },
  },
  {
    name: 'interlaced',
    file: 'interlaced.mkv',
    make: (f) =>
      ffmpeg([
        ...lavfi('testsrc2=size=640x480:rate=50:duration=12'),
        ...lavfi('sine=duration=12'),
        ...['-vf', 'tinterlace=mode=interleave_top', ...X264, '-flags', '+ildct+ilme', '-top', '1'],
        ...AAC,
        f,
      ]),
    expect: { audio: true, interlacedSource: true },
  },
  {
    name: '1 fps',
    file: 'slideshow.mp4',
    make: (f) => ffmpeg([...lavfi('testsrc2=size=640x360:rate=1:duration=25'), ...lavfi('sine=duration=25'), ...X264, ...AAC, f]),
    expect: { audio: true },
  },
];

interface VideoMeasure {
  frames: number;
  lastPtsSec: number;
  width: number;
  height: number;
  hasAudio: boolean;
}

/** The video of a file as a player decodes it: frame count, last frame's time, size, audio present. */
async function measure(file: string): Promise<VideoMeasure> {
  const probed = await probeJson(file, ['-count_packets', '-show_entries', 'packet=stream_index,pts_time']);
  const raw = probed as unknown as { packets?: { stream_index: number; pts_time?: string }[] };
  const video = probed.streams.find((s) => s['codec_type'] === 'video')!;
  const pts = (raw.packets ?? []).filter((p) => p.stream_index === video['index'] && p.pts_time).map((p) => Number(p.pts_time));
  return {
    frames: Number(video['nb_read_packets']),
    lastPtsSec: Math.max(...pts),
    width: Number(video['width']),
    height: Number(video['height']),
    hasAudio: probed.streams.some((s) => s['codec_type'] === 'audio'),
  };
}

/** The video stream's own duration; the container's when the stream declares none (Matroska). */
async function videoDurationSec(file: string): Promise<number> {
  const probed = await probeJson(file);
  const video = probed.streams.find((s) => s['codec_type'] === 'video')!;
  return Number(video['duration'] ?? probed.format['duration']);
}

interface Rung {
  name: string;
  playlistSec: number;
  measured: VideoMeasure;
}

/** Every rung of a published ladder: its playlist's total and its video, joined as one fMP4. */
async function rungsOf(out: HlsOutput): Promise<Rung[]> {
  const masterFile = path.join(mediaDir, out.masterPath);
  const { variants } = parseMasterPlaylist(await readFile(masterFile, 'utf8'));
  const rungs: Rung[] = [];
  for (const v of variants) {
    const dir = path.dirname(path.join(path.dirname(masterFile), v.uri));
    const playlist = parseMediaPlaylist(await readFile(path.join(dir, 'index.m3u8'), 'utf8'));
    const joined = path.join(root, `joined-${path.basename(dir)}.mp4`);
    const parts = [playlist.map ?? '', ...playlist.segments.map((s) => s.uri)];
    await writeFile(joined, Buffer.concat(await Promise.all(parts.map((p) => readFile(path.join(dir, p))))));
    rungs.push({
      name: path.basename(dir),
      playlistSec: playlist.segments.reduce((sum, s) => sum + s.duration, 0),
      measured: await measure(joined),
    });
    await rm(joined);
  }
  return rungs;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'biblio-hls-inputs-'));
  ingest = path.join(root, 'ingest');
  mediaDir = path.join(root, 'media');
  await mkdir(ingest);
  const deps = { ffmpeg: defaults.ffmpeg, mediaDir, stallTimeoutMs: defaults.media.stallTimeoutMs };
  media = createMediaActivities({
    ...deps,
    tmpDir: path.join(root, 'tmp'),
    maxSourceBytes: defaults.api.maxSourceBytes,
    ingestDir: ingest,
    limits: defaults.media.limits,
    storage: localStore(path.join(root, 'objects')),
  });
  hls = createHlsActivities(deps);
  for (const c of CASES) await c.make(path.join(ingest, c.file));
}, 300_000);

afterAll(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

test.each(CASES.map((c, i) => ({ ...c, id: `hls-input-${i}` })))(
  '$name: a verified ladder whose every rung keeps the rendition’s frames and timing',
  async (c) => {
    const source = path.join(ingest, c.file);
    const transcoded = (await new MockActivityEnvironment({ attempt: 1 }, { logger: quiet }).run(media.transcode, {
      videoId: c.id,
      source: { kind: 'file', path: source },
    } satisfies TranscodeInput)) as TranscodeOutput;
    const out = (await new MockActivityEnvironment({ attempt: 1 }, { logger: quiet }).run(hls.packageHls, {
      videoId: c.id,
      renditionPath: transcoded.renditionPath,
      segmentSec: SEGMENT_SEC,
    })) as HlsOutput;

    const rendition = await measure(transcoded.renditionPath);
    const renditionSec = await videoDurationSec(transcoded.renditionPath);
    // The MP4 path keeps the source's frames and timing; the ladder must keep the rendition's.
    expect(Math.abs(renditionSec - (await videoDurationSec(source)))).toBeLessThan(TOLERANCE_SEC);
    // Deinterlacing (bwdif send_frame) keeps one frame per frame too.
    expect(rendition.frames).toBe((await measure(source)).frames);
    const rungs = await rungsOf(out);
    // The 720p VFR sources get lower rungs: re-encoded, where frame times can go wrong.
    expect(rungs.length).toBeGreaterThanOrEqual(c.file === 'vfr.mp4' || c.file === 'phone.mp4' ? 2 : 1);
    for (const r of rungs) {
      const seen = {
        rung: r.name,
        frames: r.measured.frames,
        lastFrameOff: Math.abs(r.measured.lastPtsSec - rendition.lastPtsSec) < TOLERANCE_SEC,
        playlistOff: Math.abs(r.playlistSec - renditionSec) < TOLERANCE_SEC,
        audio: r.measured.hasAudio,
      };
      expect(seen).toEqual({ rung: r.name, frames: rendition.frames, lastFrameOff: true, playlistOff: true, audio: c.expect.audio });
      if (c.expect.portrait) expect(r.measured.height).toBeGreaterThan(r.measured.width);
      expect([r.measured.width % 2, r.measured.height % 2]).toEqual([0, 0]);
    }
    if (c.expect.interlacedSource) {
      expect(await interlacedByIdet(source)).toBe(true); // the case can fail
      expect(await interlacedByIdet(transcoded.renditionPath)).toBe(false);
    }
  },
  240_000,
);

test('a variable-frame-rate rendition (24, 30 and 60 fps, a 1/600 s clock) keeps its frames in every rung', async () => {
  // ffmpeg guesses this file's rate as 120 fps: the hls muxer, not a variable-frame-rate format,
  // resampled the lower rungs to a constant 120 fps (599 frames for 168), and summed the last
  // segment's 1/120 s packet durations for its EXTINF (a 5 s clip read 1.40 s: refused).
  const id = 'hls-vfr-rendition';
  const file = path.join(mediaDir, id, 'rendition.mp4');
  await mkdir(path.dirname(file), { recursive: true });
  // prettier-ignore
  await ffmpeg([
    ...lavfi('testsrc2=size=1280x720:rate=24:duration=2'),
    ...lavfi('testsrc2=size=1280x720:rate=30:duration=2'),
    ...lavfi('testsrc2=size=1280x720:rate=60:duration=1'),
    ...lavfi('sine=frequency=440:sample_rate=48000:duration=5'),
    '-filter_complex', '[0:v]settb=1/960[a];[1:v]settb=1/960[b];[2:v]settb=1/960[c];[a][b][c]concat=n=3:v=1:a=0[v]',
    '-map', '[v]', '-map', '3:a', '-fps_mode', 'vfr', ...X264, ...AAC,
    '-video_track_timescale', '600', '-movflags', '+faststart', file,
  ]);
  const out = (await new MockActivityEnvironment({ attempt: 1 }, { logger: quiet }).run(hls.packageHls, {
    videoId: id,
    renditionPath: file,
    segmentSec: SEGMENT_SEC,
  })) as HlsOutput;
  const rendition = await measure(file);
  const renditionSec = await videoDurationSec(file);
  const rungs = await rungsOf(out);
  expect(rungs.map((r) => r.name)).toEqual(['720p', '480p', '360p', '240p']);
  for (const r of rungs) {
    expect({ rung: r.name, frames: r.measured.frames }).toEqual({ rung: r.name, frames: rendition.frames });
    expect(Math.abs(r.playlistSec - renditionSec)).toBeLessThan(TOLERANCE_SEC);
  }
}, 120_000);
