import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DeadLetterView } from '../../src/app/dead-letter-service';
import type { VideoStatus } from '../../src/app/status';
import { VideosRepo } from '../../src/db/videos-repo';
import { activitiesOfStep, taskQueues, type TaskQueues } from '../../src/pipeline/catalogue';
import { traceSteps } from '../../src/temporal/step-trace';
import type { ProcessVideoInput } from '../../src/workflows/contracts';
import { workflowIdFor } from '../../src/workflows/ids';
import type { TestApi } from '../support/api';
import type { TestDatabase } from '../support/database';
import { AWKWARD, BROKEN, ffmpeg, interlacedByIdet, meanVolumeDb, probeJson } from '../support/media-corpus';
import { faultProvider } from '../support/fault-provider';
import { startOpenAiFaultServer, type OpenAiFaultServer } from '../support/openai-fault-server';
import { queuePrefix, startStack, type Stack } from '../support/stack';
import type { WorkerProcesses } from '../support/workers';

// One Temporal dev server and one worker set for the whole corpus, submitted in parallel.
// (The queues are known before the stack starts: describe bodies read them.)
const prefix = queuePrefix('corpus');
const queues = taskQueues(prefix);
// A second AI worker that talks to a scriptable fault server: the dead-letter replay case.
const faultyAiPrefix = `t${process.pid}-faulty-`;
// A second media worker whose work dir is a 2 MB tmpfs: the disk-full case.
const smallDiskPrefix = `t${process.pid}-smalldisk-`;

// Limits far below the product's (8192 px, 4 h, 2 GiB) so that small generated files can break
// them (the corpus's absurd-width, too-long and too-large cases); two media slots, not the
// product's one, for a corpus that is submitted all at once.
const LIMITS_ENV = {
  MEDIA_MAX_WIDTH: '1920',
  MEDIA_MAX_HEIGHT: '1920',
  MEDIA_MAX_PIXELS: String(1920 * 1080),
  MEDIA_MAX_DURATION_SEC: '30',
  MAX_SOURCE_BYTES: '8000000',
  MEDIA_CONCURRENCY: '2',
};

let stack: Stack;
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let fault: OpenAiFaultServer;
let api: TestApi;
let dataDir: string;
let ingestDir: string;
let outsideDir: string;

beforeAll(async () => {
  // The product's media heartbeat timeout (10 s), not the harness's 30 s default (test/support/api.ts).
  stack = await startStack({ name: 'corpus', api: { mediaHeartbeatTimeoutMs: 10_000 } });
  ({ temporal: env, db, api, dataDir, ingestDir } = stack);
  outsideDir = path.join(dataDir, 'outside');
  await mkdir(outsideDir);
  const work = path.join(dataDir, 'gen');
  await mkdir(work);
  // Generate the corpus a few files at a time (two cores, shared).
  const jobs = [
    ...BROKEN.map((b) => () => b.make(path.join(ingestDir, b.file))),
    ...AWKWARD.map((a) => () => a.make(path.join(ingestDir, a.file), work)),
    () => BROKEN[0]!.make(path.join(outsideDir, 'secret.mp4')),
    () => AWKWARD[7]!.make(path.join(ingestDir, 'for-replay.mp4'), work),
  ];
  await runLimited(jobs, 3);
  await symlink(path.join(outsideDir, 'secret.mp4'), path.join(ingestDir, 'swapped.mp4'));
  execFileSync('mkfifo', [path.join(ingestDir, 'pipe.mp4')]);

  fault = await startOpenAiFaultServer();
  stack.onStop(() => fault.close());
  await Promise.all([
    stack.startWorkers(['pipeline', 'media', 'ai', 'index'], { extraEnv: LIMITS_ENV }),
    stack.startWorkers(['ai'], { queuePrefix: faultyAiPrefix, extraEnv: faultProvider(fault).env }),
  ]);
}, 300_000);

afterAll(() => stack?.stop());

async function runLimited(jobs: (() => Promise<unknown>)[], n: number): Promise<void> {
  const queue = [...jobs];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }),
  );
}

async function post(body: unknown) {
  const res = await api.app.inject({ method: 'POST', url: '/videos', payload: body as object });
  return { status: res.statusCode, body: res.json(), raw: res.body };
}

async function getJson<T>(url: string): Promise<{ status: number; body: T; raw: string }> {
  const res = await api.app.inject({ method: 'GET', url });
  return { status: res.statusCode, body: res.json() as T, raw: res.body };
}

async function waitForEnd(videoId: string, timeoutMs = 240_000): Promise<VideoStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await getJson<VideoStatus>(`/videos/${videoId}`);
    if (body.status === 'ready' || body.status === 'failed') return body;
    if (Date.now() > deadline) throw new Error(`video ${videoId} still ${body.status} after ${timeoutMs} ms: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Starts a run directly (as the Web UI/CLI could), for sources the API would refuse at the edge. */
async function startDirect(videoId: string, sourcePath: string, q: TaskQueues = queues) {
  const input: ProcessVideoInput = {
    version: 1,
    videoId,
    source: { kind: 'file', path: sourcePath },
    queues: q,
    mediaHeartbeatTimeoutMs: 10_000,
  };
  await new VideosRepo(db.pool).claim(videoId, input.source, workflowIdFor(videoId));
  return env.client.workflow.start('processVideo', { workflowId: workflowIdFor(videoId), taskQueue: q.pipeline, args: [input] });
}

async function deadLetterOf(videoId: string): Promise<DeadLetterView | undefined> {
  const { body } = await getJson<{ items: DeadLetterView[] }>('/dead-letters?limit=200');
  return body.items.find((d) => d.videoId === videoId);
}

/** Work dirs of this video's attempts, and its segment work area (planTranscode makes one before probing). */
async function leftovers(videoId: string): Promise<string[]> {
  const entries = await readdir(path.join(dataDir, 'tmp')).catch(() => [] as string[]);
  const areas = await readdir(path.join(dataDir, 'tmp', 'segments')).catch(() => [] as string[]);
  return [...entries.filter((e) => e.startsWith(`${videoId}.`)), ...areas.filter((a) => a === videoId).map((a) => `segments/${a}`)];
}

describe('broken uploads', () => {
  // Three kinds the API cannot see at the edge: the file changed after the 202.
  const afterAccept = [
    { name: 'vanished file', id: 'broken-vanished', file: 'vanished.mp4', type: 'SourceNotFound' },
    {
      name: 'symlink swapped in to a file outside the ingest dir',
      id: 'broken-symlink',
      file: 'swapped.mp4',
      type: 'SourceOutsideIngestDir',
    },
    { name: 'FIFO swapped in', id: 'broken-fifo', file: 'pipe.mp4', type: 'SourceNotRegularFile' },
  ];
  const all = [...BROKEN.map((b) => ({ name: b.name, id: `broken-${b.name}`, file: b.file, type: b.type })), ...afterAccept];
  const finals = new Map<string, VideoStatus>();

  beforeAll(async () => {
    await Promise.all(
      all.map(async (c) => {
        if (afterAccept.includes(c)) await startDirect(c.id, path.join(ingestDir, c.file));
        else expect((await post({ videoId: c.id, source: { kind: 'file', path: c.file } })).status).toBe(202);
      }),
    );
    await Promise.all(all.map(async (c) => finals.set(c.id, await waitForEnd(c.id))));
  }, 300_000);

  test.each(all)('dead-letters a $name upload as $type after one attempt, leaving no temp files', async (c) => {
    const final = finals.get(c.id);
    expect(final).toMatchObject({ status: 'failed', workflowStatus: 'FAILED' });
    expect(final?.lastError).toMatchObject({ type: c.type, step: 'transcode' });
    // No server path in the status document or the dead letter.
    expect(JSON.stringify(final)).not.toContain(dataDir);
    const trace = await traceSteps(env.client, workflowIdFor(c.id));
    // The verdict may come from the plan (probe, limits) or the single pass (after encoding), both inside the media task: it ran once.
    const mediaStep = trace.filter((t) => (activitiesOfStep('transcode') as string[]).includes(t.activity));
    expect(mediaStep.length).toBeGreaterThan(0);
    expect(mediaStep.map((t) => t.attempt).filter((a) => a !== 1)).toEqual([]);
    const dl = await deadLetterOf(c.id);
    expect(dl).toMatchObject({ errorType: c.type, step: 'transcode', attempts: 1, state: 'open', failures: 1 });
    expect(JSON.stringify(dl)).not.toContain(dataDir);
    expect(dl?.links.temporalUi).toContain(`/workflows/${workflowIdFor(c.id)}/${final?.runId}`);
    expect(await leftovers(c.id)).toEqual([]);
  });

  test('the dead-letter list filters by state and type, and discard closes an entry once', async () => {
    const byType = await getJson<{ items: DeadLetterView[] }>('/dead-letters?type=NoVideoStream');
    expect(byType.body.items.map((d) => d.videoId)).toEqual(['broken-audio-only']);
    const id = byType.body.items[0]!.id;
    expect((await getJson<DeadLetterView>(`/dead-letters/${id}`)).body).toMatchObject({ videoId: 'broken-audio-only', state: 'open' });

    const discarded = await api.app.inject({ method: 'POST', url: `/dead-letters/${id}/discard` });
    expect(discarded.statusCode).toBe(200);
    expect(discarded.json()).toMatchObject({ state: 'discarded' });
    const again = await api.app.inject({ method: 'POST', url: `/dead-letters/${id}/discard` });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.type).toBe('DeadLetterNotOpen');

    const open = await getJson<{ items: DeadLetterView[] }>('/dead-letters?state=open&limit=200');
    expect(open.body.items.map((d) => d.videoId)).not.toContain('broken-audio-only');
    expect((await getJson<unknown>('/dead-letters/999999')).status).toBe(404);
    expect((await getJson<unknown>('/dead-letters?state=bogus')).status).toBe(400);
  });
});

describe('awkward but valid uploads', () => {
  const finals = new Map<string, VideoStatus>();

  beforeAll(async () => {
    await Promise.all(
      AWKWARD.map(async (a, i) => {
        const res = await post({ videoId: `awkward-${i}`, source: { kind: 'file', path: a.file } });
        expect(res.status).toBe(202);
      }),
    );
    await Promise.all(AWKWARD.map(async (_a, i) => finals.set(`awkward-${i}`, await waitForEnd(`awkward-${i}`))));
  }, 400_000);

  test.each(AWKWARD.map((a, i) => ({ ...a, id: `awkward-${i}` })))('ends ready with a verified rendition: $name', async (a) => {
    const final = finals.get(a.id);
    expect(final).toMatchObject({ status: 'ready', lastError: null });
    // Status answers carry URLs (issue 26); the file on the server is the row's.
    const rendition = (await new VideosRepo(db.pool).get(a.id))!.renditionPath!;
    const probed = await probeJson(rendition, ['-count_frames']);
    const video = probed.streams.filter((s) => s['codec_type'] === 'video');
    const audio = probed.streams.filter((s) => s['codec_type'] === 'audio');
    expect(video).toHaveLength(1);
    expect(video[0]).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p' });
    const width = Number(video[0]!['width']);
    const height = Number(video[0]!['height']);
    expect(width % 2).toBe(0);
    expect(height % 2).toBe(0);
    // Upright: no rotation left for the player to apply.
    expect(JSON.stringify(video[0]!['side_data_list'] ?? [])).not.toContain('rotation');
    expect(probed.streams.filter((s) => !['video', 'audio'].includes(String(s['codec_type'])))).toEqual([]);
    if (a.expect.portrait) expect(height).toBeGreaterThan(width);
    if (a.expect.audio === false) expect(audio).toHaveLength(0);
    if (a.expect.audio === true) {
      expect(audio).toHaveLength(1);
      // The default track is the tone; the first (non-default) track is silence.
      expect(await meanVolumeDb(rendition)).toBeGreaterThan(-40);
    }
    if (a.expect.interlacedSource) {
      expect(await interlacedByIdet(path.join(ingestDir, a.file))).toBe(true); // the test can fail
      expect(await interlacedByIdet(rendition)).toBe(false);
    }
    if (a.expect.maxFramesOf === 'source') {
      const source = await probeJson(path.join(ingestDir, a.file), ['-count_frames']);
      const sourceFrames = Number(source.streams.find((s) => s['codec_type'] === 'video')?.['nb_read_frames']);
      expect(Number(video[0]!['nb_read_frames'])).toBeLessThanOrEqual(sourceFrames + 1);
    }
    expect(await leftovers(a.id)).toEqual([]);
  });
});

describe('dead-letter replay', () => {
  test('replays a run dead-lettered at analyze from its recorded transcode, without transcoding again', async () => {
    fault.setScript(Array.from({ length: 10 }, () => ({ kind: 'status', status: 401 }) as const));
    const q = { ...queues, ai: taskQueues(faultyAiPrefix).ai };
    const handle = await startDirect('replay-1', path.join(ingestDir, 'for-replay.mp4'), q);
    await handle.result().catch(() => undefined);
    const dl = await deadLetterOf('replay-1');
    expect(dl).toMatchObject({ errorType: 'AiRejected', step: 'analyze', state: 'open' });

    // The cause goes away (the AI service accepts us again), then the operator replays.
    fault.setScript([]);
    const replay = await api.app.inject({ method: 'POST', url: `/dead-letters/${dl!.id}/replay` });
    expect(replay.statusCode).toBe(202);
    const replayed = replay.json() as DeadLetterView;
    expect(replayed.state).toBe('replayed');
    expect(replayed.replayedRunId).toBeTruthy();
    const second = await api.app.inject({ method: 'POST', url: `/dead-letters/${dl!.id}/replay` });
    expect(second.statusCode).toBe(409);

    await env.client.workflow.getHandle(workflowIdFor('replay-1'), replayed.replayedRunId!).result();
    expect((await waitForEnd('replay-1')).status).toBe('ready');

    // From the new run's history: the media task was scheduled once (the copied, recorded one),
    // analyze ran again after the reset point, and nothing of the transcode step did.
    const history = await env.client.workflow.getHandle(workflowIdFor('replay-1'), replayed.replayedRunId!).fetchHistory();
    const types = new Map<string, string>();
    let resetAt = 0;
    const startedAfterReset: string[] = [];
    for (const e of history.events ?? []) {
      const id = Number(e.eventId);
      if (e.activityTaskScheduledEventAttributes) types.set(String(id), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
      if (e.workflowTaskFailedEventAttributes && !resetAt) resetAt = id;
      const started = e.activityTaskStartedEventAttributes;
      if (started && resetAt && id > resetAt) startedAfterReset.push(types.get(String(started.scheduledEventId)) ?? '?');
    }
    expect([...types.values()].filter((t) => t === 'prepareMedia')).toHaveLength(1);
    expect(resetAt).toBeGreaterThan(0);
    // The replay re-runs the failed step (analyze) from its start and reuses every recorded
    // output of the transcode step, its analysis inputs included (issue 25).
    expect(startedAfterReset).toEqual(['analyze', 'writeIndexRow', 'upsertVector', 'markSearchable']);
  });
});

describe('operator ends a run', () => {
  const nobody = { ...queues, media: `${prefix}nobody-media` };

  test('a terminated run leaves a failed row, not queued, and no dead letter', async () => {
    const handle = await startDirect('term-1', path.join(ingestDir, 'silent.mp4'), nobody);
    await handle.terminate('operator test');
    const final = await waitForEnd('term-1', 30_000);
    expect(final).toMatchObject({ status: 'failed', workflowStatus: 'TERMINATED' });
    const row = await new VideosRepo(db.pool).get('term-1');
    expect(row).toMatchObject({ status: 'failed', errorType: 'WorkflowTerminated' });
    expect(await deadLetterOf('term-1')).toBeUndefined();
  });

  test('a cancelled run ends CANCELLED with a failed row, and no dead letter', async () => {
    const handle = await startDirect('cancel-1', path.join(ingestDir, 'silent.mp4'), nobody);
    await new Promise((r) => setTimeout(r, 1000));
    await handle.cancel();
    await handle.result().catch(() => undefined);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    const row = await new VideosRepo(db.pool).get('cancel-1');
    expect(row).toMatchObject({ status: 'failed', errorType: 'WorkflowCancelled' });
    expect(await deadLetterOf('cancel-1')).toBeUndefined();
  });
});

describe('API edge', () => {
  test('a directory or a FIFO is refused as a file source, with no server path in the body', async () => {
    for (const p of ['.', 'pipe.mp4']) {
      const res = await post({ source: { kind: 'file', path: p } });
      expect(res.status).toBe(422);
      expect(res.body.error.type).toBe('SourceNotRegularFile');
      expect(res.raw).not.toContain(dataDir);
    }
    for (const p of ['../outside/secret.mp4', 'missing.mp4']) {
      const res = await post({ source: { kind: 'file', path: p } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.raw).not.toContain(dataDir);
    }
  });
});

/** Mounting a tmpfs needs root (CAP_SYS_ADMIN): probe once, so the disk-full test is reported as skipped, not passed. */
function tmpfsProblem(): string | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'biblio-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const mountProblem = tmpfsProblem();
if (mountProblem) console.warn(`disk-full test SKIPPED: cannot mount a 2 MB tmpfs here (${mountProblem}); it needs root`);
const diskFullTest = mountProblem ? test.skip : test;

describe('disk full', () => {
  let mountPoint: string | undefined;
  let smallDisk: WorkerProcesses | undefined;
  let smallDataDir: string;

  beforeAll(async () => {
    smallDataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-smalldisk-'));
    const tmp = path.join(smallDataDir, 'tmp');
    await mkdir(tmp);
    if (mountProblem) return;
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', tmp], { stdio: 'pipe' });
    mountPoint = tmp;
    // Noise does not compress: its rendition is well over 2 MB.
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'nullsrc=s=640x480:r=25:d=2,geq=random(1)*255:128:128',
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '10', '-threads', '1'],
      path.join(ingestDir, 'noise.mp4'),
    ]);
    // Its own data dir (the tmpfs is its tmp) but the one object store of the deployment: the
    // local store lives under the data dir, so link it to the stack's (the AI and index workers
    // read what this worker publishes there).
    await mkdir(path.join(stack.dataDir, 'objects'), { recursive: true });
    await symlink(path.join(stack.dataDir, 'objects'), path.join(smallDataDir, 'objects'));
    smallDisk = await stack.startWorkers(['media'], { dataDir: smallDataDir, queuePrefix: smallDiskPrefix });
  }, 120_000);

  afterAll(async () => {
    await smallDisk?.stop();
    if (mountPoint) execFileSync('umount', ['-l', mountPoint]);
    await rm(smallDataDir, { recursive: true, force: true });
  });

  diskFullTest('a transcode that fills the disk fails DiskFull, leaves nothing behind, and completes once space is back', async () => {
    if (!mountPoint) throw new Error('the tmpfs was not mounted');
    const q = { ...queues, media: taskQueues(smallDiskPrefix).media };
    const handle = await startDirect('enospc-1', path.join(ingestDir, 'noise.mp4'), q);
    // Wait for the first attempt's typed failure.
    const deadline = Date.now() + 120_000;
    let lastFailure: string | undefined;
    while (Date.now() < deadline) {
      const d = await handle.describe();
      lastFailure = d.raw.pendingActivities?.[0]?.lastFailure?.applicationFailureInfo?.type ?? undefined;
      if (lastFailure) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(lastFailure).toBe('DiskFull');
    // The next attempt waits 30 s (DiskFull's first retry delay): the disk is empty meanwhile.
    expect(await readdir(mountPoint)).toEqual([]);
    execFileSync('mount', ['-o', 'remount,size=200m', mountPoint]);
    await handle.result();
    expect((await waitForEnd('enospc-1')).status).toBe('ready');
    expect(await readdir(mountPoint)).toEqual([]);
  });
});
