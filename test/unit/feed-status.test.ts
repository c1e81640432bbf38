import { MockActivityEnvironment } from '@temporalio/testing';
import { deriveStatus } from '../../src/app/derive-status';
import { FEED_FRESH_MS, factsFromFeed, type FeedContext } from '../../src/app/feed-status';
import type { VideoProgress } from '../../src/db/video-progress-repo';
import type { VideoRow } from '../../src/db/videos-repo';
import { StatusFeed } from '../../src/workers/status-feed';
import type { PipelineState } from '../../src/workflows/contracts';

// When the status document may come from what the workers wrote instead of a query and a
// describe: one row per reason to ask Temporal after all. The I/O (the row writes, the API's read)
// is covered on a real stack by test/integration/status-feed.test.ts.

const NOW = Date.parse('2026-12-06T12:00:00Z');

function row(overrides: Partial<VideoRow> = {}): VideoRow {
  return {
    id: 'v1',
    source: { kind: 'file', path: 'a.mp4' },
    workflowId: 'video-v1',
    status: 'queued',
    renditionPath: null,
    thumbnailPath: null,
    durationSec: null,
    width: null,
    height: null,
    summary: null,
    tags: [],
    analyzer: null,
    model: null,
    dim: null,
    offlineAnalysis: null,
    vectorCollection: null,
    errorType: null,
    errorMessage: null,
    failedStep: null,
    createdAt: new Date(NOW - 60_000),
    updatedAt: new Date(NOW - 60_000),
    ...overrides,
  };
}

const transcoding: PipelineState = {
  videoId: 'v1',
  step: 'transcode',
  steps: { transcode: { queue: 'media', startedAt: '2026-12-06T11:59:50.000Z' } },
  segments: { done: 3, count: 8 },
};

function feed(overrides: Partial<VideoProgress> = {}): VideoProgress {
  return {
    videoId: 'v1',
    runId: 'run-1',
    state: transcoding,
    stateAt: new Date(NOW - 3_000),
    activity: 'encodeSegment',
    attempt: 1,
    phase: 'encode',
    percent: 40,
    activityAt: new Date(NOW - 1_000),
    ...overrides,
  };
}

const ctx: FeedContext = { now: NOW, temporalUp: true, workflowQueue: 'pipeline', temporalUiUrl: 'http://ui', namespace: 'default' };

test('a fresh report of the current step answers the document a watcher sees: step, segments, progress, the run', () => {
  const facts = factsFromFeed(row(), feed(), ctx);
  expect(facts).toBeDefined();
  const doc = deriveStatus(facts!);
  expect(doc).toMatchObject({
    status: 'processing',
    workflowStatus: 'RUNNING',
    runId: 'run-1',
    step: 'transcode',
    segments: { done: 3, count: 8 },
    progress: { step: 'transcode', phase: 'encode', percent: 40 },
    attempt: 1,
    steps: transcoding.steps,
    lastError: null,
    waitingFor: null,
    temporalReachable: true,
    result: null,
  });
  expect(doc.links.temporalUi).toBe('http://ui/namespaces/default/workflows/video-v1/run-1/history');
});

test.each<[string, Partial<VideoRow>, Partial<VideoProgress> | null, Partial<FeedContext>]>([
  ['nothing written yet', {}, null, {}],
  ['no activity started yet (queued, or its worker is missing)', {}, { activity: null, activityAt: null }, {}],
  ['the workflow has not published its state', {}, { state: null }, {}],
  ['the last report is older than the window', {}, { activityAt: new Date(NOW - FEED_FRESH_MS - 1) }, {}],
  ['a retry: its last failure is the server’s', {}, { attempt: 2 }, {}],
  [
    'the workflow moved on and the next step waits for its worker',
    {},
    { activity: 'joinSegments', state: { ...transcoding, step: 'analyze' } },
    {},
  ],
  ['the row says ready: Temporal decides when the run has closed', { status: 'ready' }, {}, {}],
  ['the row says failed', { status: 'failed' }, {}, {}],
  ['the workflow failed', {}, { state: { ...transcoding, step: 'failed', error: { type: 'X', message: 'm', step: 'transcode' } } }, {}],
  ['waiting for a new source URL', {}, { state: { ...transcoding, waitingForSource: { since: 's', deadline: 'd', reason: 'r' } } }, {}],
  ['no recent word from Temporal (it may be down)', {}, {}, { temporalUp: false }],
])('asks Temporal when %s', (_why, r, f, c) => {
  expect(factsFromFeed(row(r), f === null ? undefined : feed(f), { ...ctx, ...c })).toBeUndefined();
});

test('activity workers write each attempt of a processVideo activity and its progress heartbeats (at most one a second per phase)', async () => {
  const writes: { videoId: string; runId: string; activity: { name: string; attempt: number; phase?: string; percent?: number } }[] = [];
  const feedOf = new StatusFeed({
    publishState: () => Promise.resolve(),
    publishActivity: (videoId, runId, activity) => {
      writes.push({ videoId, runId, activity });
      return Promise.resolve();
    },
  });
  const info = {
    activityType: 'transcode',
    attempt: 1,
    workflowType: 'processVideo',
    workflowExecution: { workflowId: 'video-v9', runId: 'run-9' },
  };
  const env = new MockActivityEnvironment(info, { interceptors: [feedOf.interceptor()] });
  const sent: unknown[] = [];
  env.on('heartbeat', (d: unknown) => sent.push(d));
  await env.run(async () => {
    const { heartbeat } = await import('@temporalio/activity');
    heartbeat({ phase: 'encode', percent: 10 });
    heartbeat({ phase: 'encode', percent: 11 }); // same phase within a second: not written
    heartbeat({ phase: 'thumbnail', percent: 95 }); // a new phase: written at once
  });
  // The server still gets every heartbeat the activity sends (the SDK throttles those itself).
  expect(sent).toHaveLength(3);
  expect(writes).toEqual([
    { videoId: 'v9', runId: 'run-9', activity: { name: 'transcode', attempt: 1, phase: undefined, percent: undefined } },
    { videoId: 'v9', runId: 'run-9', activity: { name: 'transcode', attempt: 1, phase: 'encode', percent: 10 } },
    { videoId: 'v9', runId: 'run-9', activity: { name: 'transcode', attempt: 1, phase: 'thumbnail', percent: 95 } },
  ]);
});

test('activities of other workflows (deletion, reconciler) write nothing', async () => {
  let writes = 0;
  const feedOf = new StatusFeed({
    publishState: () => Promise.resolve(),
    publishActivity: () => {
      writes++;
      return Promise.resolve();
    },
  });
  const env = new MockActivityEnvironment(
    { activityType: 'removeVideoFiles', workflowType: 'deleteVideo', workflowExecution: { workflowId: 'delete-video-v9', runId: 'r' } },
    { interceptors: [feedOf.interceptor()] },
  );
  await env.run(() => Promise.resolve());
  expect(writes).toBe(0);
});
