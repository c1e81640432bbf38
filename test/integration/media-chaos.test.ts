import { readdirSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VideoStatus } from '../../src/app/status';
import type { HeartbeatProgress } from '../../src/workflows/contracts';
import { workflowIdFor } from '../../src/workflows/ids';
import type { TestApi } from '../support/api';
import { ffmpeg } from '../support/media-corpus';
import { startStack, type Stack } from '../support/stack';
import type { WorkerProcesses } from '../support/workers';

// Chaos on real processes: the media worker and its ffmpeg are killed, frozen and stopped.
const STALL_TIMEOUT_MS = 3_000;
const HEARTBEAT_TIMEOUT_MS = 10_000; // the product default
const GRACE_MS = 2_000;

let stack: Stack;
let env: TestWorkflowEnvironment;
let api: TestApi;
let dataDir: string;
const media: WorkerProcesses[] = [];
const measured: Record<string, number> = {};

beforeAll(async () => {
  // Named here although it is the harness's default too (test/support/api.ts passes the product's):
  // these tests measure how fast a dead worker is noticed against exactly this value.
  stack = await startStack({ name: 'chaos', workers: ['pipeline', 'ai', 'index'], api: { mediaHeartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS } });
  ({ temporal: env, api, dataDir } = stack);
  // Long enough that a slow preset keeps ffmpeg busy for several seconds.
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25:duration=24'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=24'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', '-c:a', 'aac', '-shortest'],
    path.join(stack.ingestDir, 'long.mp4'),
  ]);
}, 180_000);

afterAll(async () => {
  // The longest gap between two ffmpeg progress lines (each one a heartbeat) in any encode.
  const gaps = media.flatMap((m) => [...(m.output.get('media') ?? '').matchAll(/"maxProgressGapMs":(\d+)/g)].map((g) => Number(g[1])));
  if (gaps.length) measured.maxProgressGap = Math.max(...gaps);
  console.log(`media chaos measurements (ms): ${JSON.stringify(measured)}`);
  await stack?.stop();
});

/** Starts a fresh media worker; earlier ones still running are stopped first, so only it can take the work. */
async function startMedia(): Promise<number> {
  for (const old of media) await old.stop();
  const m = await stack.startWorkers(['media'], {
    extraEnv: {
      FFMPEG_PRESET: 'medium',
      MEDIA_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS),
      // These faults are the single pass's (one ffmpeg per attempt): keep the 24 s clip out of the
      // segmented path (issue 15, which has its own chaos test: segmented-transcode.test.ts).
      MEDIA_SEGMENT_SEC: '60',
      WORKER_SHUTDOWN_GRACE_MS: String(GRACE_MS),
    },
  });
  media.push(m);
  return m.procs.get('media')?.pid as number;
}

function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s[0] !== 'Z';
}

/** The encoding ffmpeg (the one writing -progress) that `workerPid` started. */
function encoderOf(workerPid: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = procStat(Number(name));
    if (!s || Number(s[1]) !== workerPid) continue;
    const cmd = (() => {
      try {
        return readFileSync(`/proc/${name}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (cmd.startsWith('ffmpeg') && cmd.includes('-progress')) return Number(name);
  }
  return undefined;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function pending(videoId: string) {
  const d = await env.client.workflow.getHandle(workflowIdFor(videoId)).describe();
  return d.raw.pendingActivities?.[0];
}

function progressOf(p: Awaited<ReturnType<typeof pending>>): HeartbeatProgress | undefined {
  const payload = p?.heartbeatDetails?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<HeartbeatProgress>(payload) : undefined;
}

/** Waits until the worker's ffmpeg is encoding this video and has reported encoded output. */
async function encoding(videoId: string, workerPid: number): Promise<number> {
  return waitFor(
    `ffmpeg of worker ${workerPid} to encode ${videoId}`,
    async () => {
      const ff = encoderOf(workerPid);
      const progress = progressOf(await pending(videoId));
      return ff && progress?.phase === 'transcode' && (progress.encodedSec ?? 0) > 0 ? ff : undefined;
    },
    90_000,
    200,
  );
}

async function waitForEnd(videoId: string, timeoutMs = 240_000): Promise<VideoStatus> {
  return waitFor(
    `${videoId} to end`,
    async () => {
      const res = await api.app.inject({ method: 'GET', url: `/videos/${videoId}` });
      const s = res.json() as VideoStatus;
      return s.status === 'ready' || s.status === 'failed' ? s : undefined;
    },
    timeoutMs,
    500,
  );
}

async function attemptDirs(videoId: string): Promise<string[]> {
  return (await readdir(path.join(dataDir, 'tmp')).catch(() => [] as string[])).filter((e) => e.startsWith(`${videoId}.`));
}

async function start(videoId: string): Promise<void> {
  const res = await api.app.inject({ method: 'POST', url: '/videos', payload: { videoId, source: { kind: 'file', path: 'long.mp4' } } });
  expect(res.statusCode).toBe(202);
}

test('kills ffmpeg when the media worker is SIGKILLed, retries within 15 s and completes on a restarted worker', async () => {
  const workerPid = await startMedia();
  await start('kill-1');
  const ff = await encoding('kill-1', workerPid);
  const killedAt = Date.now();
  process.kill(workerPid, 'SIGKILL');
  await waitFor('the orphaned ffmpeg to die', () => (alive(ff) ? undefined : true), 5_000, 20);
  measured.killToNoOrphan = Date.now() - killedAt;
  expect(measured.killToNoOrphan).toBeLessThan(2_000);
  expect(await attemptDirs('kill-1')).toHaveLength(1); // the dead attempt's dir, until someone sweeps it

  await startMedia();
  await waitFor(
    'the retried attempt to start',
    async () => {
      const p = await pending('kill-1');
      return p && (p.attempt ?? 1) >= 2 && p.lastStartedTime ? true : undefined;
    },
    30_000,
    100,
  );
  measured.killToRetryStarted = Date.now() - killedAt;
  expect(measured.killToRetryStarted).toBeLessThan(15_000);

  expect(await waitForEnd('kill-1')).toMatchObject({ status: 'ready' });
  expect(await attemptDirs('kill-1')).toEqual([]);
});

test('fails a SIGSTOPped ffmpeg as TranscodeStalled within the stall timeout + 5 s, kills it, and the retry completes', async () => {
  const workerPid = await startMedia();
  await start('stop-1');
  const ff = await encoding('stop-1', workerPid);
  const stoppedAt = Date.now();
  process.kill(ff, 'SIGSTOP');
  const failure = await waitFor(
    'the stalled attempt to fail',
    async () => {
      const p = await pending('stop-1');
      return p?.lastFailure ? p.lastFailure : undefined;
    },
    30_000,
    100,
  );
  measured.sigstopToFailed = Date.now() - stoppedAt;
  expect(failure.applicationFailureInfo?.type).toBe('TranscodeStalled');
  expect(measured.sigstopToFailed).toBeLessThan(STALL_TIMEOUT_MS + 5_000);
  expect(alive(ff)).toBe(false);
  await waitFor(
    'the retry to start',
    async () => {
      const p = await pending('stop-1');
      return p && (p.attempt ?? 1) >= 2 && p.lastStartedTime && p.heartbeatDetails ? true : undefined;
    },
    30_000,
  );
  measured.sigstopToRetryStarted = Date.now() - stoppedAt;
  expect(await waitForEnd('stop-1')).toMatchObject({ status: 'ready' });
  expect(await attemptDirs('stop-1')).toEqual([]);
});

test('exits 0 within grace + 3 s on SIGTERM mid-transcode with no ffmpeg or temp dir left, and a restarted worker completes', async () => {
  const workerPid = await startMedia();
  const child = media.at(-1)!.procs.get('media')!;
  await start('term-1');
  const ff = await encoding('term-1', workerPid);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const termAt = Date.now();
  process.kill(workerPid, 'SIGTERM');
  const code = await exited;
  measured.sigtermToExit = Date.now() - termAt;
  expect(code).toBe(0);
  expect(measured.sigtermToExit).toBeLessThan(GRACE_MS + 3_000);
  expect(alive(ff)).toBe(false);
  expect((await attemptDirs('term-1')).filter((d) => d.endsWith(`.pid-${workerPid}`))).toEqual([]);

  await startMedia();
  expect(await waitForEnd('term-1')).toMatchObject({ status: 'ready' });
  expect(await attemptDirs('term-1')).toEqual([]);
});
