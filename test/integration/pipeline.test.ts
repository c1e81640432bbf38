import { existsSync } from 'node:fs';
import { readFile, realpath, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { VideoStatus } from '../../src/app/status';
import { loadConfig } from '../../src/config';
import { VideosRepo } from '../../src/db/videos-repo';
import { parseMasterPlaylist, parseMediaPlaylist } from '../../src/media/hls-playlist';
import { interpretProbe } from '../../src/media/probe';
import { runProcess } from '../../src/media/run-process';
import { completedRunViolations } from '../support/catalogue-trace';
import { traceSteps } from '../../src/temporal/step-trace';
import type { TestApi } from '../support/api';
import type { TestDatabase } from '../support/database';
import { makeNotAVideo, makeTinyClip } from '../support/media';
import { startStack, type Stack } from '../support/stack';
import type { WorkerProcesses } from '../support/workers';

// Real parts only: Temporal dev server, PostgreSQL, ffmpeg, LanceDB, the real worker processes.
let stack: Stack;
let prefix: string;
let queues: Stack['queues'];
let env: TestWorkflowEnvironment;
let db: TestDatabase;
let workers: WorkerProcesses;
let api: TestApi;
let dataDir: string;
let ingestDir: string;

beforeAll(async () => {
  stack = await startStack({ name: 'pipeline', workers: ['pipeline', 'media', 'ai', 'index'], api: {} });
  ({ prefix, queues, temporal: env, db, workers, api, dataDir, ingestDir } = stack);
  await Promise.all([
    makeTinyClip(path.join(ingestDir, 'sunset walk.mp4')),
    makeTinyClip(path.join(ingestDir, 'dup.mp4')),
    makeTinyClip(path.join(ingestDir, 'other.mp4')),
    makeNotAVideo(path.join(ingestDir, 'notes.mp4')),
  ]);
});

afterAll(() => stack?.stop());

async function post(body: unknown) {
  const res = await api.app.inject({ method: 'POST', url: '/videos', payload: body as object });
  return { status: res.statusCode, body: res.json() };
}

async function waitForEnd(videoId: string, timeoutMs = 60_000): Promise<VideoStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.app.inject({ method: 'GET', url: `/videos/${videoId}` });
    const status = res.json() as VideoStatus;
    // A video is ready the moment its index step is done; the run closes a moment later (or,
    // with analysis delayed, stays open for its re-analysis timers).
    const ended = status.status === 'ready' || status.status === 'failed';
    if (ended && (status.workflowStatus !== 'RUNNING' || status.analysis === 'delayed')) return status;
    if (Date.now() > deadline) throw new Error(`video ${videoId} still ${status.status} after ${timeoutMs} ms: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function probeFile(file: string) {
  const res = await runProcess('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  return interpretProbe(res.stdout);
}

test('runs transcode, analyze and index on their own task queues and makes the video searchable', async () => {
  const started = await post({ videoId: 'happy-1', source: { kind: 'file', path: 'sunset walk.mp4' } });
  expect(started.status).toBe(202);
  expect(started.body.workflowId).toBe('video-happy-1');

  const final = await waitForEnd('happy-1');
  expect(final).toMatchObject({ status: 'ready', workflowStatus: 'COMPLETED', step: 'done', lastError: null });

  // Each step ran on its own queue, by the worker process of that queue.
  const trace = await traceSteps(env.client, 'video-happy-1');
  expect(trace.map((t) => [t.activity, t.taskQueue])).toEqual([
    // The 2 s clip is too short to segment: plan, single pass, HLS ladder, analysis inputs and
    // storyboard are one media task (src/workflows/media-step.ts).
    ['prepareMedia', queues.media],
    ['analyze', queues.ai],
    // The index step is a saga: row, then point, then searchable.
    ['writeIndexRow', queues.index],
    ['upsertVector', queues.index],
    ['markSearchable', queues.index],
  ]);
  expect(completedRunViolations(trace, queues)).toEqual([]);
  const by = (activity: string) => trace.find((t) => t.activity === activity)?.workerIdentity;
  expect(by('prepareMedia')).toBe(`media@${os.hostname()}:${workers.procs.get('media')?.pid}`);
  expect(by('analyze')).toBe(`ai@${os.hostname()}:${workers.procs.get('ai')?.pid}`);
  expect(by('writeIndexRow')).toBe(`index@${os.hostname()}:${workers.procs.get('index')?.pid}`);

  // The rendition is a real, browser-playable H.264/AAC MP4 of the same length.
  const result = final.result!;
  // Status answers carry URLs (issue 26); the files on the server are the row's.
  const row = await new VideosRepo(db.pool).get('happy-1');
  expect(result).toMatchObject({ rendition: '/videos/happy-1/rendition.mp4', thumbnail: '/videos/happy-1/thumbnail.jpg' });
  const rendition = await probeFile(row!.renditionPath!);
  expect(rendition.ok && rendition.facts).toMatchObject({ videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 240 });
  expect(rendition.ok && rendition.facts.durationSec).toBeCloseTo(2, 0);
  const thumb = await runProcess('ffprobe', ['-v', 'error', '-show_streams', '-print_format', 'json', row!.thumbnailPath!]);
  expect(thumb.stdout).toContain('"codec_name": "mjpeg"');

  // Published media is served from the store, not from the worker's copy: after the media worker's
  // cache of the video is lost, the API still answers with the store's bytes (Range included).
  await rm(path.join(dataDir, 'media', 'happy-1'), { recursive: true, force: true });
  const served = await api.app.inject({ method: 'GET', url: '/videos/happy-1/rendition.mp4' });
  expect([served.statusCode, served.headers['content-type']]).toEqual([200, 'video/mp4']);
  expect(served.rawPayload.equals((await api.storage.getBytes('media/happy-1/rendition.mp4'))!)).toBe(true);
  const seek = await api.app.inject({ method: 'GET', url: '/videos/happy-1/rendition.mp4', headers: { range: 'bytes=10-19' } });
  expect([seek.statusCode, seek.rawPayload.equals(served.rawPayload.subarray(10, 20))]).toEqual([206, true]);
  const poster = await api.app.inject({ method: 'GET', url: '/videos/happy-1/thumbnail.jpg' });
  expect([poster.statusCode, poster.headers['content-type']]).toEqual([200, 'image/jpeg']);
  const hlsMaster = await api.app.inject({ method: 'GET', url: '/videos/happy-1/hls/master.m3u8' });
  expect(hlsMaster.statusCode).toBe(200);
  const rung = parseMasterPlaylist(hlsMaster.body).variants[0]!.uri;
  const rungPlaylist = await api.app.inject({ method: 'GET', url: `/videos/happy-1/hls/${rung}` });
  expect(rungPlaylist.statusCode).toBe(200);
  const firstSeg = `${path.posix.dirname(rung)}/${parseMediaPlaylist(rungPlaylist.body).segments[0]!.uri}`;
  const seg = await api.app.inject({ method: 'GET', url: `/videos/happy-1/hls/${firstSeg}` });
  expect([seg.statusCode, seg.rawPayload.equals((await api.storage.getBytes(`media/happy-1/hls/${firstSeg}`))!)]).toEqual([200, true]);

  // Offline analysis says so, and the row and the vector point are both there.
  expect(result).toMatchObject({ analyzer: 'offline', offlineAnalysis: true });
  expect(result.summary).toMatch(/no AI/i);
  expect(row).toMatchObject({ status: 'ready', analyzer: 'offline' });

  const search = await api.app.inject({ method: 'GET', url: '/search?q=sunset%20walk&limit=3' });
  expect(search.statusCode).toBe(200);
  expect(search.json().results[0]).toMatchObject({ videoId: 'happy-1' });

  // Filters narrow the same search: each one can exclude the video, and a bad range is a 400.
  const ids = async (qs: string) =>
    (
      (await api.app.inject({ method: 'GET', url: `/search?q=sunset%20walk&limit=3&${qs}` })).json() as { results: { videoId: string }[] }
    ).results.map((r) => r.videoId);
  expect(await ids('maxDuration=10&minDuration=1')).toContain('happy-1');
  expect(await ids('minDuration=100')).not.toContain('happy-1');
  expect(await ids(`tags=${encodeURIComponent(row!.tags[0] ?? 'x')}`)).toContain('happy-1');
  expect(await ids('tags=no-such-tag')).not.toContain('happy-1');
  expect(await ids('createdAfter=2999-01-01')).not.toContain('happy-1');
  expect(await ids('createdBefore=2999-01-01')).toContain('happy-1');
  const bad = await api.app.inject({ method: 'GET', url: '/search?q=sunset&minDuration=5&maxDuration=1' });
  expect(bad.statusCode).toBe(400);
  expect(bad.json().error.type).toBe('ValidationError');
});

test('fetches a URL source over http and runs it through the same pipeline', async () => {
  const clip = await readFile(path.join(ingestDir, 'dup.mp4'));
  let riverGets = 0;
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/clips/river.mp4')) {
      riverGets++;
      res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': clip.length });
      res.end(clip);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const ok = await post({ videoId: 'url-1', source: { kind: 'url', url: `http://127.0.0.1:${port}/clips/river.mp4?sig=secret` } });
    expect(ok.status).toBe(202);
    expect((await waitForEnd('url-1')).status).toBe('ready');
    // Fetched once: the plan hands its copy of a source too short to segment to the single pass.
    expect(riverGets).toBe(1);
    expect(existsSync(path.join(dataDir, 'tmp', 'segments', 'url-1'))).toBe(false);

    const missing = await post({ videoId: 'url-404', source: { kind: 'url', url: `http://127.0.0.1:${port}/clips/gone.mp4` } });
    expect(missing.status).toBe(202);
    const failed = await waitForEnd('url-404');
    expect(failed.lastError).toMatchObject({ type: 'SourceNotFound', step: 'transcode' });
    const trace = await traceSteps(env.client, 'video-url-404');
    // The source is fetched and validated by the media task's plan.
    expect(trace.filter((t) => t.activity === 'prepareMedia').map((t) => t.attempt)).toEqual([1]); // a 404 is not retried
  } finally {
    server.close();
  }
});

test('a second start of the same video id returns the existing run, while running and after it finished', async () => {
  const body = { videoId: 'dup-1', source: { kind: 'file', path: 'dup.mp4' } };
  const first = await post(body);
  const second = await post(body);
  expect(first.status).toBe(202);
  expect(second.status).toBe(200);
  expect(second.body.runId).toBe(first.body.runId);

  await waitForEnd('dup-1');
  const third = await post(body);
  expect(third.status).toBe(200);
  expect(third.body).toMatchObject({ runId: first.body.runId, status: 'ready' });

  // Exactly one run exists for the workflow id, whatever the API said.
  const runs: string[] = [];
  for await (const wf of env.client.workflow.list({ query: `WorkflowId = 'video-dup-1'` })) runs.push(wf.runId);
  expect(runs).toEqual([first.body.runId]);
});

test('a finished upload is not run again after Temporal has forgotten its workflow id', async () => {
  // Simulates retention: the row says ready, Temporal has no run for the id.
  const source = { kind: 'file', path: path.join(await realpath(ingestDir), 'dup.mp4') };
  await db.pool.query(`INSERT INTO videos (id, source, workflow_id, status) VALUES ('retained-1', $1, 'video-retained-1', 'ready')`, [
    JSON.stringify(source),
  ]);
  const again = await post({ videoId: 'retained-1', source: { kind: 'file', path: 'dup.mp4' } });
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ status: 'ready', workflowStatus: 'NOT_STARTED' });
  const runs: string[] = [];
  for await (const wf of env.client.workflow.list({ query: `WorkflowId = 'video-retained-1'` })) runs.push(wf.runId);
  expect(runs).toEqual([]);
});

test('the same video id with another source is a 409 conflict, not a second run', async () => {
  await post({ videoId: 'conflict-1', source: { kind: 'file', path: 'other.mp4' } });
  const clash = await post({ videoId: 'conflict-1', source: { kind: 'file', path: 'dup.mp4' } });
  expect(clash.status).toBe(409);
  expect(clash.body.error).toMatchObject({ type: 'VideoIdConflict', videoId: 'conflict-1' });
  await waitForEnd('conflict-1');
});

test('a file that is not a video fails with a typed InvalidMedia error and is not retried', async () => {
  const started = await post({ videoId: 'notvideo-1', source: { kind: 'file', path: 'notes.mp4' } });
  expect(started.status).toBe(202);
  const final = await waitForEnd('notvideo-1');

  expect(final).toMatchObject({ status: 'failed', workflowStatus: 'FAILED', step: 'failed' });
  expect(final.lastError).toMatchObject({ type: 'InvalidMedia', step: 'transcode' });
  expect(final.lastError?.message).toMatch(/not readable media|not a video/);
  expect(final.lastError?.message).not.toMatch(/\n\s+at /); // a reason, not a stack trace

  // One attempt only: the activity's failure was non-retryable.
  const trace = await traceSteps(env.client, 'video-notvideo-1');
  expect(trace.filter((t) => t.activity === 'prepareMedia').map((t) => t.attempt)).toEqual([1]);

  // The workflow itself failed (not "completed: rejected") with the same type.
  const err = await env.client.workflow
    .getHandle('video-notvideo-1')
    .result()
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'InvalidMedia', nonRetryable: true });

  const row = await new VideosRepo(db.pool).get('notvideo-1');
  expect(row).toMatchObject({ status: 'failed', errorType: 'InvalidMedia', failedStep: 'transcode' });
});

test('a step whose queue has no worker says so in the status instead of spinning', async () => {
  const { VideoService } = await import('../../src/app/video-service');
  const { createRepositories } = await import('../../src/db/repositories');
  const { LanceDbVectorStore } = await import('../../src/adapters/vector-store/lancedb-store');
  const { OfflineAnalyzer } = await import('../../src/adapters/analyzer/offline-analyzer');
  const { loadUrlSealer } = await import('../../src/security/sealed-url');
  const orphanQueues = { ...queues, media: `${prefix}nobody-polls-this` };
  const store = await LanceDbVectorStore.open(path.join(dataDir, 'lancedb'));
  const service = new VideoService({
    client: env.client,
    repos: createRepositories(db.pool),
    analyzer: new OfflineAnalyzer(),
    vectorStore: store,
    queues: orphanQueues,
    ingestDir,
    temporalUiUrl: 'http://localhost:8233',
    mediaHeartbeatTimeoutMs: loadConfig({}).workers.mediaHeartbeatTimeoutMs,
    sealer: await loadUrlSealer({ dataDir }),
  });
  try {
    await service.start({ videoId: 'orphan-1', source: { kind: 'file', path: 'dup.mp4' } });
    let status: VideoStatus | undefined;
    for (let i = 0; i < 50 && !status?.waitingFor; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = await service.get('orphan-1');
    }
    expect(status?.waitingFor).toBe(`no worker is polling task queue '${orphanQueues.media}'`);
  } finally {
    await env.client.workflow
      .getHandle('video-orphan-1')
      .terminate('test cleanup')
      .catch(() => undefined);
    await store.close();
  }
});

test('with Temporal unreachable the upload stays registered, answers 503 quickly, and a retry starts it', async () => {
  const { VideoService } = await import('../../src/app/video-service');
  const { createRepositories } = await import('../../src/db/repositories');
  const { LanceDbVectorStore } = await import('../../src/adapters/vector-store/lancedb-store');
  const { OfflineAnalyzer } = await import('../../src/adapters/analyzer/offline-analyzer');
  const { loadUrlSealer } = await import('../../src/security/sealed-url');
  const { Client, Connection } = await import('@temporalio/client');
  const { buildApp } = await import('../../src/api/app');
  const deadClient = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1', connectTimeout: 500 }) });
  const store = await LanceDbVectorStore.open(path.join(dataDir, 'lancedb'));
  const down = buildApp(
    new VideoService({
      client: deadClient,
      repos: createRepositories(db.pool),
      analyzer: new OfflineAnalyzer(),
      vectorStore: store,
      queues,
      ingestDir,
      temporalUiUrl: 'http://localhost:8233',
      mediaHeartbeatTimeoutMs: loadConfig({}).workers.mediaHeartbeatTimeoutMs,
      startDeadlineMs: 1_000,
      sealer: await loadUrlSealer({ dataDir }),
    }),
  );
  try {
    const body = { videoId: 'outage-1', source: { kind: 'file', path: 'dup.mp4' } };
    const began = Date.now();
    const auth = { authorization: `Bearer ${api.key}` };
    const refused = await down.inject({ method: 'POST', url: '/videos', payload: body, headers: auth });
    expect(Date.now() - began).toBeLessThan(8_000);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.json().error).toMatchObject({ type: 'TemporalUnavailable', videoId: 'outage-1' });
    expect(refused.json().error.hint).toMatch(/registered and starts by itself/);

    // Nothing lost: the row is there and status answers from it while Temporal is away.
    const seen = await down.inject({ method: 'GET', url: '/videos/outage-1', headers: auth });
    expect(seen.statusCode).toBe(200);
    expect(seen.json()).toMatchObject({ status: 'queued', workflowStatus: 'UNKNOWN', temporalReachable: false });

    // The client's retry against a reachable Temporal completes the registration and the run.
    const retried = await post(body);
    expect(retried.status).toBe(200);
    expect((await waitForEnd('outage-1')).status).toBe('ready');
  } finally {
    await down.close();
    await store.close();
    await deadClient.connection.close().catch(() => undefined);
  }
});

describe('bad input gets a clear 4xx error body, never a stack trace', () => {
  test.each([
    ['an invalid video id', { videoId: 'has space', source: { kind: 'file', path: 'dup.mp4' } }, 400, 'ValidationError'],
    ['a missing source', { videoId: 'x1' }, 400, 'ValidationError'],
    ['an unknown source kind', { source: { kind: 's3', key: 'a' } }, 400, 'ValidationError'],
    ['a non-http URL', { source: { kind: 'url', url: 'file:///etc/passwd' } }, 400, 'ValidationError'],
    ['a path outside the ingest dir', { source: { kind: 'file', path: '../../../etc/passwd' } }, 400, 'SourceOutsideIngestDir'],
    ['a file that does not exist', { source: { kind: 'file', path: 'nope.mp4' } }, 422, 'SourceNotFound'],
    ['unknown fields', { source: { kind: 'file', path: 'dup.mp4' }, priority: 'high' }, 400, 'ValidationError'],
  ])('%s', async (_what, body, status, type) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect(res.body.error.type).toBe(type);
    expect(typeof res.body.error.message).toBe('string');
    expect(res.body.error.hint).toEqual(expect.any(String));
    expect(JSON.stringify(res.body)).not.toMatch(/\s+at \S+ \(/);
  });

  test('malformed JSON', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/videos', headers: { 'content-type': 'application/json' }, payload: '{oops' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.type).toBe('BadRequest');
  });

  test('unknown video and unknown route', async () => {
    const missing = await api.app.inject({ method: 'GET', url: '/videos/never-started' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toMatchObject({ type: 'VideoNotFound', videoId: 'never-started' });
    const route = await api.app.inject({ method: 'DELETE', url: '/videos' });
    expect(route.statusCode).toBe(404);
    expect(route.json().error.type).toBe('RouteNotFound');
  });

  test('search without a query', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/search' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.type).toBe('ValidationError');
  });
});
