import { deriveStatus, queueAwaitedByFirstAttempt, type StatusFacts, type VideoStatus } from '../../src/app/derive-status';
import type { VideoRow } from '../../src/db/videos-repo';
import { taskQueues } from '../../src/pipeline/catalogue';
import type { MediaFacts, PipelineState, TranscodeOutput } from '../../src/workflows/contracts';

// The status document from gathered facts, one row per situation a user can meet. The I/O that
// gathers them (describe, query, poller counts) is covered on a real server by the integration tests.

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
    createdAt: new Date('2026-11-25T00:00:00Z'),
    updatedAt: new Date('2026-11-25T00:00:00Z'),
    ...overrides,
  };
}

function facts(overrides: Partial<StatusFacts> = {}): StatusFacts {
  return { row: row(), temporalReachable: true, workflowQueue: 'pipeline', temporalUiUrl: 'http://ui', namespace: 'default', ...overrides };
}

const running = (pending?: NonNullable<StatusFacts['run']>['pending'], historyLength = 20) => ({
  status: 'RUNNING',
  runId: 'run-1',
  historyLength,
  pending,
});
const closed = (status: string) => ({ status, runId: 'run-1', historyLength: 40 });

const mediaFacts: MediaFacts = {
  durationSec: 30,
  width: 640,
  height: 360,
  videoCodec: 'h264',
  audioCodec: 'aac',
  frameRate: 25,
  sizeBytes: 1,
  container: 'mp4',
};
const media: TranscodeOutput = {
  renditionPath: '/m/v1/rendition.mp4',
  thumbnailPath: '/m/v1/thumbnail.jpg',
  source: mediaFacts,
  rendition: mediaFacts,
};
const analysis = { analyzer: 'offline', model: 'm', dim: 4, offline: true, summary: 'a talk', tags: ['talk'], embeddingPath: 'e' };
const done: PipelineState = {
  videoId: 'v1',
  step: 'done',
  steps: {},
  media,
  analysis,
  index: { collection: 'c', indexedAt: '2026-11-25T00:00:00Z' },
};
const atStep = (step: PipelineState['step'], more: Partial<PipelineState> = {}): PipelineState => ({
  videoId: 'v1',
  step,
  steps: {},
  ...more,
});
const seen = { status: 'processing', step: 'analyze', workflowStatus: 'RUNNING', runId: 'run-0', at: '2026-11-25T10:00:00.000Z' } as const;
const TIMEOUT_MESSAGE =
  'the run exceeded its execution timeout (WORKFLOW_EXECUTION_TIMEOUT_MS) and was stopped; POST a new videoId to try again';

const cases: [string, StatusFacts, Partial<VideoStatus>][] = [
  [
    'running: the query names the step, the pending activity its progress and attempt',
    facts({
      run: running({ activityType: 'transcode', attempt: 2, started: true, progress: { phase: 'transcode', percent: 40 } }),
      state: atStep('transcode'),
    }),
    {
      workflowStatus: 'RUNNING',
      status: 'processing',
      step: 'transcode',
      runId: 'run-1',
      attempt: 2,
      progress: { step: 'transcode', phase: 'transcode', percent: 40 },
      lastError: null,
      waitingFor: null,
      result: null,
    },
  ],
  [
    'running with a retrying activity: its last failure is the last error, with the step',
    facts({
      run: running({ activityType: 'analyze', attempt: 3, started: false, lastFailure: { type: 'AiUnavailable', message: '503' } }),
      state: atStep('analyze'),
    }),
    { status: 'processing', attempt: 3, lastError: { type: 'AiUnavailable', message: '503', step: 'analyze' } },
  ],
  [
    'completed: ready, with the run’s result and full progress',
    facts({ run: closed('COMPLETED'), state: done, row: row({ status: 'ready' }) }),
    {
      workflowStatus: 'COMPLETED',
      status: 'ready',
      step: 'done',
      progress: { step: 'done', phase: 'done', percent: 100 },
      analysis: 'complete',
      result: expect.objectContaining({
        rendition: '/videos/v1/rendition.mp4',
        thumbnail: '/videos/v1/thumbnail.jpg',
        summary: 'a talk',
        vectorCollection: 'c',
        durationSec: 30,
      }),
    },
  ],
  [
    'failed: the workflow’s own typed error and its step',
    facts({
      run: closed('FAILED'),
      state: atStep('failed', { error: { type: 'InvalidMedia', message: 'not a video', step: 'transcode' } }),
      row: row({ status: 'failed', errorType: 'InvalidMedia', errorMessage: 'not a video', failedStep: 'transcode' }),
    }),
    { status: 'failed', step: 'failed', lastError: { type: 'InvalidMedia', message: 'not a video', step: 'transcode' } },
  ],
  [
    'terminated by an operator before anything was recorded: failed, typed by how the run closed',
    facts({ run: closed('TERMINATED') }),
    {
      status: 'failed',
      step: 'failed',
      lastError: {
        type: 'WorkflowTerminated',
        message: 'the run was terminated (Web UI or CLI) before the video was ready; POST a new videoId to try again',
        step: 'failed',
      },
    },
  ],
  [
    'timed out (the TTL): failed with WorkflowTimedOut and what to do next',
    facts({ run: closed('TIMED_OUT') }),
    { workflowStatus: 'TIMED_OUT', status: 'failed', lastError: { type: 'WorkflowTimedOut', message: TIMEOUT_MESSAGE, step: 'failed' } },
  ],
  [
    'a closed run whose row already says why: the row’s error wins over the closed status',
    facts({
      run: closed('TERMINATED'),
      row: row({ status: 'failed', errorType: 'WorkflowTerminated', errorMessage: 'ended by ops', failedStep: 'analyze' }),
    }),
    { status: 'failed', lastError: { type: 'WorkflowTerminated', message: 'ended by ops', step: 'analyze' } },
  ],
  [
    'not started: queued, no run id, and a Web UI link to the workflow id alone',
    facts(),
    {
      workflowStatus: 'NOT_STARTED',
      status: 'queued',
      step: 'queued',
      runId: null,
      progress: null,
      lastError: null,
      links: { self: '/videos/v1', temporalUi: 'http://ui/namespaces/default/workflows/video-v1' },
    },
  ],
  [
    'Temporal unreachable: the last known state, its run id and when it was seen',
    facts({ temporalReachable: false, lastKnown: seen }),
    {
      workflowStatus: 'UNKNOWN',
      temporalReachable: false,
      status: 'processing',
      step: 'analyze',
      runId: 'run-0',
      waitingFor: 'Temporal is unreachable: status and step are the last known state (seen 2026-11-25T10:00:00.000Z)',
    },
  ],
  [
    'Temporal unreachable and nothing seen before: the row, and no date',
    facts({ temporalReachable: false }),
    {
      workflowStatus: 'UNKNOWN',
      status: 'queued',
      step: 'queued',
      runId: null,
      waitingFor: 'Temporal is unreachable: status and step are the last known state',
    },
  ],
  [
    'Temporal unreachable but the row is final: the row beats the last known state',
    facts({
      temporalReachable: false,
      lastKnown: seen,
      row: row({ status: 'failed', errorType: 'InvalidMedia', failedStep: 'transcode' }),
    }),
    { status: 'failed', step: 'failed', lastError: { type: 'InvalidMedia', message: '', step: 'transcode' } },
  ],
  [
    'degraded analysis: ready while the workflow still runs to re-analyse',
    facts({ run: running(), state: { ...done, analysisState: 'delayed' }, row: row({ status: 'ready' }) }),
    {
      workflowStatus: 'RUNNING',
      status: 'ready',
      step: 'done',
      analysis: 'delayed',
      progress: { step: 'done', phase: 'done', percent: 100 },
    },
  ],
  [
    'waiting for a new source URL: the refresh route and the deadline',
    facts({
      run: running(),
      state: atStep('transcode', { waitingForSource: { since: '2026-11-25T10:00:00Z', deadline: '2026-11-26T10:00:00Z', reason: '403' } }),
    }),
    { status: 'waiting_for_source', waitingFor: 'a new source URL (POST /videos/v1/refresh-url) until 2026-11-26T10:00:00Z' },
  ],
  [
    'a pending activity of another step than the query’s (two calls apart) is ignored',
    facts({
      run: running({
        activityType: 'transcode',
        attempt: 4,
        started: true,
        progress: { phase: 'transcode', percent: 99 },
        lastFailure: { type: 'X', message: 'x' },
      }),
      state: atStep('analyze'),
    }),
    { step: 'analyze', progress: null, attempt: null, lastError: null },
  ],
  [
    'a row that outlived Temporal’s retention: ready from the row, with its result and MP4 link',
    facts({
      row: row({
        status: 'ready',
        renditionPath: '/m/v1/rendition.mp4',
        thumbnailPath: '/m/v1/thumbnail.jpg',
        durationSec: 30,
        summary: 's',
      }),
    }),
    {
      workflowStatus: 'NOT_STARTED',
      status: 'ready',
      step: 'done',
      result: expect.objectContaining({ rendition: '/videos/v1/rendition.mp4', durationSec: 30, summary: 's', width: 0 }),
      links: { self: '/videos/v1', rendition: '/videos/v1/rendition.mp4', temporalUi: 'http://ui/namespaces/default/workflows/video-v1' },
    },
  ],
  [
    'no workflow poller: the query went unanswered, the step comes from the pending activity',
    facts({ run: running({ activityType: 'upsertVector', attempt: 1, started: true }), workflowPollers: 0 }),
    { status: 'processing', step: 'index', waitingFor: "no worker is polling task queue 'pipeline' (workflow worker)" },
  ],
  [
    'no workflow poller and nothing pending: a history past the first workflow task means it started',
    facts({ run: running(undefined, 9), workflowPollers: 0 }),
    { step: 'transcode', waitingFor: "no worker is polling task queue 'pipeline' (workflow worker)" },
  ],
  [
    'no answer yet and a history of three events: still queued',
    facts({ run: running(undefined, 3) }),
    { status: 'queued', step: 'queued', waitingFor: null },
  ],
  [
    'no answer, but this process saw it further on: never shown going back to queued',
    facts({ run: running(undefined, 3), lastKnown: seen }),
    { step: 'analyze', status: 'processing' },
  ],
  [
    'a first attempt nobody picks up: names the step’s queue, after any other reason',
    facts({
      run: running({ activityType: 'transcode', attempt: 1, started: false }),
      workflowPollers: 0,
      awaitedQueue: { name: 'media', pollers: 0 },
    }),
    { waitingFor: "no worker is polling task queue 'pipeline' (workflow worker); no worker is polling task queue 'media'" },
  ],
  [
    'pollers on the awaited queue: nothing to report',
    facts({
      run: running({ activityType: 'transcode', attempt: 1, started: false }),
      state: atStep('transcode'),
      awaitedQueue: { name: 'media', pollers: 1 },
    }),
    { waitingFor: null },
  ],
];

test.each(cases)('%s', (_name, given, expected) => {
  expect(deriveStatus(given)).toMatchObject(expected);
});

describe('links', () => {
  const hls = {
    masterPath: 'v1/hls/master.m3u8',
    variants: [{ name: '360p', width: 640, height: 360, bandwidth: 2_000_000, codecs: 'avc1.42c01e,mp4a.40.2' }],
  };

  test('a ready video whose run packaged a ladder links the master playlist and keeps the MP4 link', () => {
    const status = deriveStatus(
      facts({ run: closed('COMPLETED'), state: { ...done, media: { ...media, hls } }, row: row({ status: 'ready' }) }),
    );
    expect(status.links).toEqual({
      self: '/videos/v1',
      rendition: '/videos/v1/rendition.mp4',
      hls: '/videos/v1/hls/master.m3u8',
      temporalUi: 'http://ui/namespaces/default/workflows/video-v1/run-1/history',
    });
  });

  test('a run without a ladder (hls off) links only the MP4', () => {
    const status = deriveStatus(facts({ run: closed('COMPLETED'), state: done, row: row({ status: 'ready' }) }));
    expect(status.links.rendition).toBe('/videos/v1/rendition.mp4');
    expect(status.links).not.toHaveProperty('hls');
  });

  test('a video still transcoding has neither link', () => {
    const status = deriveStatus(facts({ run: running(), state: atStep('transcode') }));
    expect(status.links).not.toHaveProperty('rendition');
    expect(status.links).not.toHaveProperty('hls');
  });

  test('a packaged ladder is linked while analysis still runs; the MP4 only once ready', () => {
    const status = deriveStatus(facts({ run: running(), state: atStep('analyze', { media: { ...media, hls } }) }));
    expect(status.links.hls).toBe('/videos/v1/hls/master.m3u8');
    expect(status.links).not.toHaveProperty('rendition');
  });
});

test('the Web UI link escapes the namespace and the workflow id', () => {
  const status = deriveStatus(facts({ namespace: 'team a', row: row({ workflowId: 'video-a/b' }) }));
  expect(status.links.temporalUi).toBe('http://ui/namespaces/team%20a/workflows/video-a%2Fb');
});

describe('queueAwaitedByFirstAttempt', () => {
  const queues = taskQueues('t-');
  const unstarted = { activityType: 'transcode', attempt: 1, started: false };

  test.each<[string, StatusFacts, string | undefined]>([
    [
      'a first attempt of the transcode step waits for the media queue',
      facts({ run: running(unstarted), state: atStep('transcode') }),
      't-media',
    ],
    [
      'an unanswered query: the pending activity’s own step names the queue',
      facts({ run: running({ ...unstarted, activityType: 'writeIndexRow' }) }),
      't-index',
    ],
    [
      'an analyze attempt waits for the ai queue',
      facts({ run: running({ ...unstarted, activityType: 'analyze' }), state: atStep('analyze') }),
      't-ai',
    ],
    ['a started attempt waits for nobody', facts({ run: running({ ...unstarted, started: true }), state: atStep('transcode') }), undefined],
    ['a retry is not a missing worker', facts({ run: running({ ...unstarted, attempt: 2 }), state: atStep('transcode') }), undefined],
    [
      'a pending activity of another step is not the one waited on',
      facts({ run: running(unstarted), state: atStep('analyze') }),
      undefined,
    ],
    ['a closed run waits for nobody', facts({ run: { ...closed('COMPLETED'), pending: unstarted } }), undefined],
  ])('%s', (_name, given, expected) => {
    expect(queueAwaitedByFirstAttempt(given, queues)).toBe(expected);
  });

  test('without known queues there is nothing to ask', () => {
    expect(queueAwaitedByFirstAttempt(facts({ run: running(unstarted), state: atStep('transcode') }), undefined)).toBeUndefined();
  });
});

test('no server path reaches a viewer: results are API URLs, error messages lose their directories', () => {
  const status = deriveStatus(
    facts({
      row: row({
        status: 'failed',
        errorType: 'InvalidMedia',
        errorMessage: 'ffprobe failed on /var/lib/biblio/tmp/v1/source: bad data',
        failedStep: 'transcode',
      }),
    }),
  );
  expect(status.lastError?.message).toBe('ffprobe failed on source: bad data');
  expect(JSON.stringify(status)).not.toMatch(/"\/(var|tmp|m)\//);
});

describe('storyboard and chapters (issue 30)', () => {
  const storyboard = { track: 'storyboard.vtt', intervalSec: 2, tiles: 15, sheets: 1, tileWidth: 160, tileHeight: 90 };

  test('a ready video links its storyboard track and its chapters track, and lists the chapters bounded by the duration', () => {
    const chapters = [
      { startSec: 0, title: 'Opening' },
      { startSec: 12.5, title: 'Middle' },
      { startSec: 31, title: 'past the end' },
    ];
    const status = deriveStatus(
      facts({
        run: closed('COMPLETED'),
        state: { ...done, media: { ...media, storyboard }, analysis: { ...analysis, chapters } },
        row: row({ status: 'ready' }),
      }),
    );
    expect(status.links).toMatchObject({ storyboard: '/videos/v1/storyboard/storyboard.vtt', chapters: '/videos/v1/chapters.vtt' });
    expect(status.result?.chapters).toEqual(chapters.slice(0, 2));
  });

  test('without a storyboard or chapters (offline analysis, storyboard failed) neither is linked', () => {
    const status = deriveStatus(facts({ run: closed('COMPLETED'), state: done, row: row({ status: 'ready' }) }));
    expect(status.links).not.toHaveProperty('storyboard');
    expect(status.links).not.toHaveProperty('chapters');
    expect(status.result?.chapters).toEqual([]);
  });

  test('after Temporal forgot the run, the row still says both', () => {
    const status = deriveStatus(
      facts({
        row: row({
          status: 'ready',
          renditionPath: '/m/v1/rendition.mp4',
          thumbnailPath: '/m/v1/thumbnail.jpg',
          durationSec: 30,
          media: { ...media, storyboard },
          chapters: [{ startSec: 0, title: 'All of it' }],
        }),
      }),
    );
    expect(status.links).toMatchObject({ storyboard: '/videos/v1/storyboard/storyboard.vtt', chapters: '/videos/v1/chapters.vtt' });
    expect(status.result?.chapters).toEqual([{ startSec: 0, title: 'All of it' }]);
  });

  test('a video still analysing has no storyboard link yet', () => {
    const status = deriveStatus(facts({ run: running(), state: atStep('analyze', { media: { ...media, storyboard } }) }));
    expect(status.links).not.toHaveProperty('storyboard');
  });
});
