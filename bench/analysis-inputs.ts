/**
 * Cost of `extractAnalysisInputs` (issue 25) against video length: wall time of the activity on
 * 1280x720@30 clips with a tone, beside a raw-ffmpeg baseline on the same file (one plain
 * extraction of the audio as 16 kHz mono MP3, no segments, no peak measurement), with the
 * time spent sampling keyframes, the longest gap between heartbeats and what came out.
 * The product's defaults (threads, keyframes, chunk size, stall timeout).
 *
 *   npm run bench:analysis-inputs                 # 1, 5, 10 and 60 minutes
 *   npm run bench:analysis-inputs -- 1 5 10       # the lengths, in minutes
 *
 * Clips are built once in `<os tmp>/biblio-media-cache/`: one 5-minute encode (ultrafast), cut
 * or repeated without re-encoding (`-c copy`) to each length. 60 minutes take ~2.5 GB there.
 * Run it under the heavy-test lock on a shared machine: flock /tmp/biblio-heavy.lock npm run …
 */
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAnalysisInputsActivities } from '../src/activities/media/analysis-inputs';
import { loadConfig } from '../src/config';
import { lastErrorLine, runProcess } from '../src/media/run-process';
import type { AnalysisInputs, HeartbeatProgress } from '../src/workflows/contracts';

const BASE_SEC = 300;
const CACHE = path.join(os.tmpdir(), 'biblio-media-cache');
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

async function ffmpeg(args: string[]): Promise<void> {
  const res = await runProcess('ffmpeg', ['-hide_banner', '-nostdin', '-y', '-v', 'error', ...args]);
  if (res.code !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${lastErrorLine(res.stderrTail)}`);
}

async function exists(file: string): Promise<boolean> {
  return ((await stat(file).catch(() => undefined))?.size ?? 0) > 0;
}

/** Built under a temporary name and renamed: an interrupted run leaves nothing a later one trusts. */
async function cached(name: string, make: (file: string) => Promise<void>): Promise<string> {
  const file = path.join(CACHE, name);
  if (await exists(file)) return file;
  const partial = path.join(CACHE, `.${process.pid}-${name}`);
  await make(partial);
  await rename(partial, file);
  return file;
}

/** The test suite's 5-minute clip (same name and settings as test/support/media-corpus.ts). */
function baseClip(): Promise<string> {
  // prettier-ignore
  return cached('hd-720p-300s.mp4', (f) => ffmpeg([
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${BASE_SEC}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${BASE_SEC}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '28', '-c:a', 'aac', '-shortest', '-f', 'mp4', f,
  ]));
}

/** `minutes` of video: the base clip cut, or repeated, without re-encoding. */
async function clipOf(minutes: number): Promise<string> {
  const base = await baseClip();
  const seconds = minutes * 60;
  if (seconds === BASE_SEC) return base;
  return cached(`hd-720p-${seconds}s.mp4`, async (f) => {
    const list = path.join(CACHE, `.${process.pid}-list.txt`);
    await writeFile(list, `file '${base}'\n`.repeat(Math.ceil(seconds / BASE_SEC)));
    try {
      await ffmpeg([
        '-f',
        'concat',
        '-safe',
        '0',
        '-i',
        list,
        '-t',
        String(seconds),
        '-c',
        'copy',
        '-movflags',
        '+faststart',
        '-f',
        'mp4',
        f,
      ]);
    } finally {
      await rm(list, { force: true });
    }
  });
}

async function durationOf(file: string): Promise<number> {
  const res = await runProcess('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Number(res.stdout.trim());
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const out = await fn();
  return [out, (performance.now() - start) / 1000];
}

async function main(): Promise<void> {
  const lengths = process.argv.slice(2).map(Number);
  const minutes = lengths.length ? lengths : [1, 5, 10, 60];
  if (minutes.some((m) => !(m > 0))) throw new Error(`lengths are minutes > 0, got ${process.argv.slice(2).join(' ')}`);
  const config = loadConfig({});
  await mkdir(CACHE, { recursive: true });
  const root = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-analysis-'));
  const activities = createAnalysisInputsActivities({
    ffmpeg: config.ffmpeg,
    artifactsDir: path.join(root, 'artifacts'),
    stallTimeoutMs: config.media.stallTimeoutMs,
    ...config.ai,
  });
  const rows: Record<string, string | number>[] = [];
  try {
    for (const m of minutes) {
      const clip = await clipOf(m);
      const durationSec = await durationOf(clip);
      const env = new MockActivityEnvironment({ attempt: 1 }, { logger: quiet });
      const beats: { at: number; phase: string }[] = [];
      env.on('heartbeat', (d: HeartbeatProgress) => beats.push({ at: performance.now(), phase: d.phase }));
      const startedAt = performance.now();
      const input = { videoId: `bench-${m}`, renditionPath: clip, durationSec, hasAudio: true };
      const [out, activitySec] = await timed(() => env.run(activities.extractAnalysisInputs, input) as Promise<AnalysisInputs>);
      const endedAt = performance.now();
      const times = [startedAt, ...beats.map((b) => b.at), endedAt];
      const maxGapMs = Math.max(...times.slice(1).map((t, i) => t - times[i]!));
      const audioFrom = beats.find((b) => b.phase === 'audio')?.at ?? endedAt;

      const [, baselineSec] = await timed(() =>
        // prettier-ignore
        ffmpeg(['-threads', String(config.ffmpeg.threads), '-i', clip, '-vn', '-ac', '1', '-ar', '16000', '-c:a', 'libmp3lame', '-b:a', '32000', path.join(root, `baseline-${m}.mp3`)]),
      );
      await rm(path.join(root, `baseline-${m}.mp3`), { force: true });
      await rm(path.join(root, 'artifacts', `bench-${m}`), { recursive: true, force: true });
      rows.push({
        minutes: m,
        'activity s': Number(activitySec.toFixed(1)),
        'keyframes s': Number(((audioFrom - startedAt) / 1000).toFixed(1)),
        'audio-only ffmpeg s': Number(baselineSec.toFixed(1)),
        'activity / baseline': Number((activitySec / baselineSec).toFixed(2)),
        's per video minute': Number((activitySec / (durationSec / 60)).toFixed(2)),
        'max heartbeat gap ms': Math.round(maxGapMs),
        keyframes: out.keyframes.length,
        'audio chunks': out.audioChunks.length,
      });
      console.error(`done: ${m} min`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  console.log(`extractAnalysisInputs on 1280x720@30 + tone, ffmpeg threads=${config.ffmpeg.threads} (0 = auto), ${os.cpus().length} cores`);
  console.table(rows);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
