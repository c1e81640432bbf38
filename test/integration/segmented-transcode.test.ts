import { copyFile, readdir, stat, truncate } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { WORK_CACHE_LINGER_MS } from '../../src/media/work-store';
import { loadDataConverter } from '../../src/temporal/data-converter';
import type { ProcessVideoInput, ProcessVideoResult } from '../../src/workflows/contracts';
import { workflowIdFor } from '../../src/workflows/ids';
import { statusQuery } from '../../src/workflows/messages';
import { decodeErrors, streamTimes } from '../support/av-checks';
import { ffmpeg } from '../support/media-corpus';
import { activityRuns, encodedSegmentsIn, maxInFlight } from '../support/segment-history';
import { waitFor } from '../support/ops';
import { startStack, type Stack } from '../support/stack';
import type { WorkerProcesses } from '../support/workers';

// Issue 15 on real processes: a 3-minute clip cut into 10 s segments, its media worker
// SIGKILLed at ~70 %, and two media workers sharing one video's segments.
const SOURCE_SEC = 180;
const SEGMENT_SEC = 10;
// Half the product's 10 s: a SIGKILLed worker's in-flight segment is retried once its heartbeat
// times out, and a healthy segment heartbeats every second or so, far inside 5 s.
const HEARTBEAT_TIMEOUT_MS = 5_000;

let stack: Stack;
let queues: Stack['queues'];
let client: Client;
let dataDir: string;
let ingestDir: string;
let clip: string;
const media: WorkerProcesses[] = [];

beforeAll(async () => {
  stack = await startStack({ name: 'seg', workers: ['pipeline', 'ai', 'index'] });
  ({ queues, dataDir, ingestDir } = stack);
  clip = path.join(ingestDir, 'long.mp4');
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=25:duration=${SOURCE_SEC}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SOURCE_SEC}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'],
    clip,
  ]);
  // The workers encrypt URLs in payloads with a key under dataDir: read history with the same codec.
  const env = stack.temporal;
  client = new Client({ connection: env.client.connection, namespace: 'default', dataConverter: await loadDataConverter({ dataDir }) });
}, 240_000);

afterAll(() => stack?.stop());

async function startMedia(): Promise<WorkerProcesses> {
  const m = await stack.startWorkers(['media'], { extraEnv: { MEDIA_SEGMENT_SEC: String(SEGMENT_SEC), MEDIA_SEGMENT_SLOTS: '1' } });
  media.push(m);
  return m;
}

async function start(videoId: string, file = clip) {
  const input: ProcessVideoInput = {
    version: 1,
    videoId,
    source: { kind: 'file', path: file },
    queues,
    mediaHeartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS,
    // Part B's packageHls is not registered on this branch.
    hls: false,
    segmentation: { maxParallel: 4 },
  };
  return client.workflow.start('processVideo', { taskQueue: queues.pipeline, workflowId: workflowIdFor(videoId), args: [input] });
}

/** The joined output against the source: clean decode, same length to a frame, A/V aligned to 40 ms. */
async function expectFaithful(renditionPath: string) {
  expect(await decodeErrors(renditionPath)).toBe('');
  const src = await streamTimes(clip);
  const out = await streamTimes(renditionPath);
  expect(Math.abs(out.video.duration - src.video.duration)).toBeLessThanOrEqual(src.video.frameSec + 1e-6);
  expect(out.audio).toBeDefined();
  expect(Math.abs((out.audio?.start ?? NaN) - out.video.start)).toBeLessThanOrEqual(0.04);
  expect(Math.abs((out.audio?.duration ?? NaN) - out.video.duration)).toBeLessThanOrEqual(0.04);
}

const segmentRuns = async (videoId: string) =>
  (await activityRuns(client, workflowIdFor(videoId))).filter((r) => r.type === 'encodeSegment');

test('a media worker SIGKILLed at ~70 % of the segments costs at most one segment, and the run completes on a new worker', async () => {
  const first = await startMedia();
  const handle = await start('kill-70');
  const count = SOURCE_SEC / SEGMENT_SEC;
  // Watch the history: kill when ~70 % of the segments have completed.
  const doneAtKill = await waitFor(
    '70 % of the segments to complete',
    async () => {
      const done = (await segmentRuns('kill-70')).filter((r) => r.completed);
      return done.length >= Math.ceil(count * 0.7) ? done.length : undefined;
    },
    180_000,
    100,
  );
  const victim = first.procs.get('media');
  const gone = new Promise((resolve) => victim?.once('exit', resolve));
  process.kill(victim?.pid as number, 'SIGKILL');
  await gone;
  // Read after the kill, not before: the worker may start its next segment in between. A dead
  // worker's segment stays STARTED until its heartbeat times out, so this is what it had in flight.
  const inFlight = (await handle.describe()).raw.pendingActivities?.filter(
    (p) =>
      p.activityType?.name === 'encodeSegment' && p.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
  );
  const beforeKill = encodedSegmentsIn(first.output.get('media') ?? '', 'kill-70');

  const second = await startMedia();
  const result = (await handle.result()) as ProcessVideoResult;

  const runs = await segmentRuns('kill-70');
  expect(runs).toHaveLength(count); // one scheduled activity per segment: nothing planned twice
  expect(runs.every((r) => r.completed)).toBe(true);
  const retried = runs.filter((r) => (r.attempt ?? 1) > 1);
  // Work redone: only the segment in flight at the kill (if one was).
  expect(retried.length).toBeLessThanOrEqual(1);
  expect(retried.length).toBe(Math.min(1, inFlight?.length ?? 0));
  const afterKill = encodedSegmentsIn(second.output.get('media') ?? '', 'kill-70');
  // No segment finished before the kill was encoded again, and every segment was encoded once.
  expect(afterKill.filter((i) => beforeKill.includes(i))).toEqual([]);
  expect(new Set([...beforeKill, ...afterKill]).size).toBe(count);
  expect(beforeKill.length + afterKill.length).toBe(count);
  console.log(
    `kill at ${doneAtKill}/${count} segments: ${inFlight?.length ?? 0} in flight, ${retried.length} retried, ${afterKill.length} encoded after the restart`,
  );

  await expectFaithful(result.media.renditionPath);
  // The work area is gone once the output is published.
  expect(await readdir(path.join(dataDir, 'tmp', 'segments')).catch(() => [])).not.toContain('kill-70');
}, 300_000);

test("two media workers share one video's segments, and the joined output passes the same checks", async () => {
  for (const m of media) await m.stop();
  const a = await startMedia();
  const b = await startMedia();
  const handle = await start('two-workers');
  const result = (await handle.result()) as ProcessVideoResult;
  const runs = await segmentRuns('two-workers');
  const identities = new Set(runs.map((r) => r.identity));
  const pids = [a, b].map((m) => m.procs.get('media')?.pid);
  expect([...identities].map((id) => Number(/:(\d+)$/.exec(id ?? '')?.[1])).sort()).toEqual([...pids].sort());
  const perWorker = [a, b].map((m) => encodedSegmentsIn(m.output.get('media') ?? '', 'two-workers').length);
  console.log(`segments per worker: ${perWorker.join(' + ')} of ${runs.length}`);
  // Bounded per video: never more than maxParallel segments scheduled at once (and more than one, or nothing fanned out).
  const inFlight = await maxInFlight(client, handle.workflowId, 'encodeSegment');
  expect(inFlight).toBeLessThanOrEqual(4);
  expect(inFlight).toBeGreaterThan(1);
  // The progress the status document shows (GET /videos/:id reads this query).
  expect((await handle.query(statusQuery)).segments).toEqual({ done: runs.length, count: runs.length });
  expect(perWorker.every((n) => n > 0)).toBe(true);
  await expectFaithful(result.media.renditionPath);
}, 300_000);

test('a segmented run that fails (source truncated after its header) leaves no work area behind', async () => {
  // moov first (+faststart), then cut: it probes with its full 60 s, but the later segments have no frames.
  const full = path.join(ingestDir, 'full.mp4');
  const cut = path.join(ingestDir, 'cut.mp4');
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=60'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=60'],
    ...[
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-threads',
      '1',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-shortest',
      '-movflags',
      '+faststart',
    ],
    full,
  ]);
  const bytes = (await stat(full)).size;
  await copyFile(full, cut);
  await truncate(cut, Math.floor(bytes * 0.5));
  if (media.every((m) => m.procs.get('media')?.exitCode !== null)) await startMedia();
  const handle = await start('truncated', cut);
  const failed = await handle.result().then(
    () => undefined,
    (err: unknown) => err as { cause?: { type?: string } },
  );
  // Typed like the single pass's verdict on a cut file: non-retryable, dead-lettered with its reason.
  expect(failed?.cause?.type).toBe('TruncatedMedia');
  const runs = await segmentRuns('truncated');
  expect(runs.length).toBeGreaterThan(0); // it did take the segmented path
  // Several media workers may hold the video's cache: the one that ran the failure path removes
  // its own at once; another live worker's goes when its linger ends (only it knows it is not in use).
  await waitFor(
    'the video to leave no work area',
    async () => !(await readdir(path.join(dataDir, 'tmp', 'segments')).catch((): string[] => [])).includes('truncated'),
    WORK_CACHE_LINGER_MS + 10_000,
  );
}, 240_000);
