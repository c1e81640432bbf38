import type { Client } from '@temporalio/client';
import { buildStatus } from '../../src/api/status';
import type { VideoRow } from '../../src/db/videos-repo';
import type { HlsOutput, MediaFacts, PipelineState, TranscodeOutput } from '../../src/workflows/contracts';

// The status document's media links, from what the workflow's query answers (a stub client:
// the links depend only on the query's state, which real-stack tests cover end to end).
const facts: MediaFacts = {
  durationSec: 30,
  width: 640,
  height: 360,
  videoCodec: 'h264',
  audioCodec: 'aac',
  frameRate: 25,
  sizeBytes: 1,
  container: 'mp4',
};
const hls: HlsOutput = {
  masterPath: 'v1/hls/master.m3u8',
  variants: [{ name: '360p', width: 640, height: 360, bandwidth: 2_000_000, codecs: 'avc1.42c01e,mp4a.40.2' }],
};

function row(status: VideoRow['status']): VideoRow {
  return {
    id: 'v1',
    source: { kind: 'file', path: 'a.mp4' },
    workflowId: 'video-v1',
    status,
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
    createdAt: new Date(),
    updatedAt: new Date(),
  };
}

function stubClient(workflowStatus: string, state: PipelineState): Client {
  return {
    options: { namespace: 'default' },
    connection: { withDeadline: <T>(_d: number, fn: () => Promise<T>) => fn() },
    workflow: {
      getHandle: () => ({
        describe: async () => ({ status: { name: workflowStatus }, runId: 'run-1', historyLength: 40, raw: { pendingActivities: [] } }),
        query: async () => state,
      }),
    },
  } as unknown as Client;
}

function doneState(media: TranscodeOutput): PipelineState {
  return {
    videoId: 'v1',
    step: 'done',
    steps: {},
    media,
    analysis: { analyzer: 'offline', model: 'm', dim: 4, offline: true, summary: 's', tags: [], embeddingPath: 'e' },
    index: { collection: 'c', indexedAt: '2026-11-25T00:00:00Z' },
  };
}

const media: TranscodeOutput = {
  renditionPath: '/m/v1/rendition.mp4',
  thumbnailPath: '/m/v1/thumbnail.jpg',
  source: facts,
  rendition: facts,
};
const opts = { temporalUiUrl: 'http://ui' };

test('a ready video whose run packaged a ladder links the master playlist and keeps the MP4 link', async () => {
  const status = await buildStatus(stubClient('COMPLETED', doneState({ ...media, hls })), row('ready'), opts);
  expect(status.links).toMatchObject({ self: '/videos/v1', rendition: '/videos/v1/rendition.mp4', hls: '/videos/v1/hls/master.m3u8' });
});

test('a run without a ladder (older histories, hls off) links only the MP4', async () => {
  const status = await buildStatus(stubClient('COMPLETED', doneState(media)), row('ready'), opts);
  expect(status.links.rendition).toBe('/videos/v1/rendition.mp4');
  expect(status.links).not.toHaveProperty('hls');
});

test('a video still processing has neither link', async () => {
  const status = await buildStatus(stubClient('RUNNING', { videoId: 'v1', step: 'transcode', steps: {} }), row('queued'), opts);
  expect(status.links).not.toHaveProperty('rendition');
  expect(status.links).not.toHaveProperty('hls');
});
