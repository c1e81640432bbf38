/**
 * Cost of the HLS ladder (issue 15): wall time of `packageHls` on a generated 720p rendition,
 * against the clip's duration and against one single-pass MP4 encode of the same clip, in the
 * two modes the activity picks between — top rung copied (the rendition has a keyframe at every
 * segment start, as the segmented transcode writes it) and every rung re-encoded.
 *
 *   npx tsx bench/hls-ladder.ts                   # 2-minute 1280x720 clip, ~4 minutes on 2 busy cores
 *   BENCH_SECONDS=60 BENCH_PRESET=ultrafast npx tsx bench/hls-ladder.ts
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createHlsActivities } from '../src/activities/media/hls';
import type { FfmpegConfig } from '../src/config';
import type { HlsOutput } from '../src/workflows/contracts';

const run = promisify(execFile);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 120);
const PRESET = (process.env.BENCH_PRESET ?? 'veryfast') as FfmpegConfig['preset'];
const SEGMENT_SEC = Number(process.env.BENCH_SEGMENT_SEC ?? 10);
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const out = await fn();
  return [out, Number(process.hrtime.bigint() - start) / 1e9];
}

/** The rendition the transcode would publish; `gop` args decide where its keyframes are. */
async function encode(file: string, gop: string[]): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  // prettier-ignore
  const [, sec] = await timed(() => run('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${SECONDS}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`,
    '-c:v', 'libx264', '-preset', PRESET, '-pix_fmt', 'yuv420p', ...gop,
    '-c:a', 'aac', '-b:a', '128k', '-movflags', '+faststart', file,
  ]));
  return sec;
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-hls-'));
  const mediaDir = path.join(root, 'media');
  const hls = createHlsActivities({ ffmpeg: { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', threads: 0, preset: PRESET }, mediaDir });
  try {
    const mp4Sec = await encode(path.join(mediaDir, 'aligned', 'rendition.mp4'), [
      '-force_key_frames',
      `expr:gte(t,n_forced*${SEGMENT_SEC})`,
    ]);
    await encode(path.join(mediaDir, 'plain', 'rendition.mp4'), []);
    const results: Record<string, unknown>[] = [];
    for (const id of ['aligned', 'plain']) {
      const env = new MockActivityEnvironment({ attempt: 1 }, { logger: quiet });
      const input = { videoId: id, renditionPath: path.join(mediaDir, id, 'rendition.mp4'), segmentSec: SEGMENT_SEC };
      const [out, sec] = await timed(() => env.run(hls.packageHls, input) as Promise<HlsOutput>);
      results.push({
        rendition: id === 'aligned' ? 'keyframe at every segment start' : "x264's own GOP",
        packageSec: Number(sec.toFixed(1)),
        perVideoSecond: Number((sec / SECONDS).toFixed(3)),
        vsSinglePassMp4: Number((sec / mp4Sec).toFixed(2)),
        variants: out.variants.map((v) => `${v.name} ${Math.round(v.bandwidth / 1000)}k`),
      });
    }
    console.log(
      JSON.stringify(
        { clip: `${SECONDS}s 1280x720@30`, preset: PRESET, segmentSec: SEGMENT_SEC, singlePassMp4Sec: Number(mp4Sec.toFixed(1)), results },
        null,
        2,
      ),
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
