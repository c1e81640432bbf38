import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { defaultPayloadConverter } from '@temporalio/common';
import type { VideoStatus } from '../../src/app/status';
import type { HeartbeatProgress } from '../../src/workflows/contracts';
import { workflowIdFor } from '../../src/workflows/ids';
import type { TestApi } from '../support/api';
import { ffmpeg } from '../support/media-corpus';
import { waitFor } from '../support/ops';
import { startStack, type Stack } from '../support/stack';
import type { WorkerProcesses } from '../support/workers';

// A media worker SIGKILLed mid-activity has its work retried within 5 s on the product's
// defaults (heartbeat timeout 10 s, lease TTL 2.5 s, segment length 10 s): the worker-liveness
// detector (src/workers/liveness.ts) fails the lost attempt long before the heartbeat timeout.
// 1280x720 sources, so ffmpeg loads both cores as a real upload does. The segmented source is
// 60 s (6 segments of 10 s, the product's segment length): long enough that segments are still
// queued when one is killed, short enough for the suite; a multi-minute source only adds queued
// segments of the same kind.
const RETRY_WITHIN_MS = 5_000;
const SHORT_SEC = 19; // under 2 × 10 s: the single-pass path
const LONG_SEC = 60;

let stack: Stack;
let env: TestWorkflowEnvironment;
let api: TestApi;
const measured: Record<string, number> = {};

beforeAll(async () => {
  stack = await startStack({ name: 'killretry', workers: ['pipeline', 'ai', 'index'], api: {} });
  ({ temporal: env, api } = stack);
  // The short clip is 1080p50: its single-pass encode must outlast a frozen worker's lease and
  // the retry's start (~3 s) on a fast machine, or the freeze test finds its ffmpeg done, not running.
  for (const [name, sec, size, rate] of [
    ['short.mp4', SHORT_SEC, '1920x1080', 50],
    ['long.mp4', LONG_SEC, '1280x720', 25],
  ] as const) {
    await ffmpeg([
      ...['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${rate}:duration=${sec}`],
      ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${sec}`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'],
      path.join(stack.ingestDir, name),
    ]);
  }
}, 240_000);

afterAll(async () => {
  console.log(`kill → retry measurements (ms): ${JSON.stringify(measured)}`);
  // What the liveness detector did, from every worker's log: read when a figure is off.
  const outputs = [stack?.workers.output.get('pipeline') ?? '', ...everStarted.map((m) => m.output.get('media') ?? '')];
  const lines = outputs.flatMap((o) => o.split('\n')).filter((l) => /lease|lost media worker|rescue/.test(l));
  console.log(`liveness log:\n${lines.join('\n')}`);
  await stack?.stop();
});

// The product's ffmpeg settings too (veryfast on every core), not the harness's one-thread
// ultrafast: a live worker must not be taken for dead while ffmpeg loads both cores.
const started: WorkerProcesses[] = [];
const everStarted: WorkerProcesses[] = [];
async function media(): Promise<WorkerProcesses> {
  const m = await stack.startWorkers(['media'], { productDefaults: true });
  started.push(m);
  everStarted.push(m);
  return m;
}
/** Each test starts from no media worker, so its first attempt can only go where it says. */
beforeEach(async () => {
  for (const m of started.splice(0)) await m.stop();
});
const pidOf = (m: WorkerProcesses) => m.procs.get('media')?.pid as number;

function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
const alive = (pid: number) => ((s) => s !== undefined && s[0] !== 'Z')(procStat(pid));

/** The encoding ffmpeg (the one writing -progress) that `workerPid` started. */
function encoderOf(workerPid: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(procStat(Number(name))?.[1]) !== workerPid) continue;
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

async function start(videoId: string, file: string): Promise<void> {
  const res = await api.app.inject({ method: 'POST', url: '/videos', payload: { videoId, source: { kind: 'file', path: file } } });
  expect(res.statusCode).toBe(202);
}

async function pendingOf(videoId: string) {
  return (await env.client.workflow.getHandle(workflowIdFor(videoId)).describe()).raw.pendingActivities ?? [];
}

/** The attempt of `type` that the worker with this pid has been running for a while (so ffmpeg is encoding). */
async function runningOn(videoId: string, type: string, pid: number, forMs: number) {
  return waitFor(
    `${type} of ${videoId} to run on worker ${pid} for ${forMs} ms`,
    async () =>
      (await pendingOf(videoId)).find(
        (p) =>
          p.activityType?.name === type &&
          p.lastWorkerIdentity?.endsWith(`:${pid}`) &&
          p.lastStartedTime &&
          Date.now() - Number(p.lastStartedTime.seconds) * 1000 > forMs,
      ),
    180_000,
    100,
  );
}

/** When the server started attempt ≥ 2 of this activity (its own clock: the same host's). */
async function retryStartedAt(videoId: string, activityId: string): Promise<number> {
  const p = await waitFor(
    `attempt 2 of activity ${activityId} to start`,
    async () => (await pendingOf(videoId)).find((a) => a.activityId === activityId && (a.attempt ?? 1) >= 2 && a.lastStartedTime),
    60_000,
    50,
  );
  console.log(
    `activity ${activityId} attempt ${p.attempt} started on ${p.lastWorkerIdentity}, queue ${p.activityOptions?.taskQueue?.name ?? '?'}`,
  );
  const t = p.lastStartedTime!;
  return Number(t.seconds) * 1000 + Math.round((t.nanos ?? 0) / 1e6);
}

async function waitForEnd(videoId: string): Promise<VideoStatus> {
  return waitFor(
    `${videoId} to end`,
    async () => {
      const s = (await api.app.inject({ method: 'GET', url: `/videos/${videoId}` })).json() as VideoStatus;
      return s.status === 'ready' || s.status === 'failed' ? s : undefined;
    },
    300_000,
    500,
  );
}

/** Two media workers; the one that took the first attempt of `type` and the other. */
/** The phase the attempt last reported in its heartbeat (the server's copy). */
function phaseOf(p: Awaited<ReturnType<typeof pendingOf>>[number]): string | undefined {
  const payload = p.heartbeatDetails?.payloads?.[0];
  return payload ? defaultPayloadConverter.fromPayload<HeartbeatProgress>(payload).phase : undefined;
}

/**
 * Two media workers, `videoId` started, and the worker whose attempt of `type` is in `phase`. A
 * short upload's whole media step is one task (prepareMedia), so "mid single pass" is that task
 * while its heartbeat says it is encoding.
 */
async function twoWorkersOneRunning(videoId: string, file: string, type: string, phase: string) {
  const pair = [await media(), await media()];
  await start(videoId, file);
  const attempt = await waitFor(
    `${type} of ${videoId} to reach ${phase}`,
    async () =>
      (await pendingOf(videoId)).find(
        (p) => p.activityType?.name === type && p.lastStartedTime && p.lastWorkerIdentity && phaseOf(p) === phase,
      ),
    180_000,
    100,
  );
  const victim = pair.find((m) => attempt.lastWorkerIdentity!.endsWith(`:${pidOf(m)}`));
  if (!victim) throw new Error(`${type} started on ${attempt.lastWorkerIdentity}, none of this test's workers`);
  return { attempt, victim: pidOf(victim), other: pidOf(pair.find((m) => m !== victim)!) };
}

test('a media worker SIGKILLed mid single-pass transcode has the transcode retried on another worker within 5 s, and the video goes ready', async () => {
  const { attempt, victim } = await twoWorkersOneRunning('kill-single', 'short.mp4', 'prepareMedia', 'transcode');
  const killedAt = Date.now();
  process.kill(victim, 'SIGKILL');
  measured.singlePassKillToRetry = (await retryStartedAt('kill-single', attempt.activityId!)) - killedAt;
  expect(measured.singlePassKillToRetry).toBeLessThanOrEqual(RETRY_WITHIN_MS);
  expect(await waitForEnd('kill-single')).toMatchObject({ status: 'ready' });
});

test("a media worker SIGKILLed mid segment has that segment retried within 5 s on the other worker's rescue slot, ahead of the queued siblings, and the video goes ready", async () => {
  const a = await media();
  const b = await media();
  await start('kill-seg', 'long.mp4');
  const attempt = await runningOn('kill-seg', 'encodeSegment', pidOf(a), 2_000);
  // Both workers busy (one segment slot each), the video's other lanes queued behind them; no
  // worker is restarted: only the rescue slot can take the retry within 5 s.
  await runningOn('kill-seg', 'encodeSegment', pidOf(b), 0);
  const killedAt = Date.now();
  process.kill(pidOf(a), 'SIGKILL');
  measured.segmentKillToRetry = (await retryStartedAt('kill-seg', attempt.activityId!)) - killedAt;
  expect(measured.segmentKillToRetry).toBeLessThanOrEqual(RETRY_WITHIN_MS);
  expect(await waitForEnd('kill-seg')).toMatchObject({ status: 'ready' });
});

test('a media worker frozen past its lease loses its attempt to another worker; thawed, its late heartbeat is refused and its ffmpeg killed', async () => {
  const { attempt, victim } = await twoWorkersOneRunning('freeze', 'short.mp4', 'prepareMedia', 'transcode');
  const ff = await waitFor('the encoding ffmpeg', async () => encoderOf(victim), 60_000, 50);
  const frozenAt = Date.now();
  process.kill(victim, 'SIGSTOP');
  measured.freezeToRetry = (await retryStartedAt('freeze', attempt.activityId!)) - frozenAt;
  expect(measured.freezeToRetry).toBeLessThanOrEqual(RETRY_WITHIN_MS);
  expect(alive(ff)).toBe(true); // ffmpeg ran on while its worker was frozen
  const thawedAt = Date.now();
  process.kill(victim, 'SIGCONT');
  await waitFor('the thawed worker’s ffmpeg to be killed', async () => !alive(ff), 10_000, 50);
  measured.thawToStaleFfmpegKilled = Date.now() - thawedAt;
  expect(await waitForEnd('freeze')).toMatchObject({ status: 'ready' });
});
