import path from 'node:path';
import type { VideoStatus } from '../../src/app/status';
import { FEED_FRESH_MS } from '../../src/app/feed-status';
import { makeSampleClip } from '../../src/media/sample-clip';
import { startStack, type Stack } from '../support/stack';

// GET /videos/:id of a running upload costs Temporal nothing while the workers' reports are fresh
// (src/app/feed-status.ts), and asks Temporal again once they stop. What the API's client asks
// Temporal is counted by an interceptor on it: a query or describe per read is exactly the cost
// this read path removes.

let stack: Stack;
const asked = { query: 0, describe: 0 };

beforeAll(async () => {
  stack = await startStack({
    name: 'status-feed',
    workers: ['pipeline', 'media', 'ai', 'index'],
    api: {
      interceptors: {
        workflow: [
          {
            query: (input, next) => {
              asked.query++;
              return next(input);
            },
            describe: (input, next) => {
              asked.describe++;
              return next(input);
            },
          },
        ],
      },
    },
  });
  // Long enough that the media step runs for several seconds on the harness's ultrafast preset.
  await makeSampleClip(path.join(stack.ingestDir, 'clip.mp4'), { seconds: 40, width: 1280, height: 720, audio: true });
});

afterAll(() => stack?.stop());

async function get(videoId: string): Promise<VideoStatus> {
  return (await stack.api.app.inject({ method: 'GET', url: `/videos/${videoId}` })).json() as VideoStatus;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const temporalCalls = () => asked.query + asked.describe;

/** Reads until one is answered without asking Temporal while the media step runs; that read's document. */
async function firstFedRead(videoId: string, timeoutMs = 60_000): Promise<VideoStatus> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const before = temporalCalls();
    const doc = await get(videoId);
    if (temporalCalls() === before && doc.step === 'transcode') return doc;
    await sleep(250);
  }
  throw new Error(`no read of ${videoId} was answered from the row in ${timeoutMs / 1000} s`);
}

test('polling a running upload twice a second asks Temporal nothing while its workers report; the document still shows the run, step and progress', async () => {
  const res = await stack.api.app.inject({
    method: 'POST',
    url: '/videos',
    payload: { videoId: 'fed-1', source: { kind: 'file', path: 'clip.mp4' } },
  });
  expect(res.statusCode).toBe(202);
  const first = await firstFedRead('fed-1');
  expect(first).toMatchObject({ status: 'processing', workflowStatus: 'RUNNING', step: 'transcode', attempt: 1, temporalReachable: true });
  expect(first.runId).toEqual(expect.any(String));
  expect(first.steps.transcode).toMatchObject({ queue: stack.queues.media });
  // Four more reads at 2 Hz while the media step still runs: none of them asks Temporal.
  const before = temporalCalls();
  const docs: VideoStatus[] = [];
  for (let i = 0; i < 4; i++) {
    await sleep(500);
    docs.push(await get('fed-1'));
  }
  const stillTranscoding = docs.filter((d) => d.step === 'transcode');
  expect(stillTranscoding.length).toBeGreaterThan(0);
  if (stillTranscoding.length === docs.length) expect(temporalCalls()).toBe(before);
  // Progress comes from the media worker's reports (phase and percent), as before from heartbeats.
  expect(docs.some((d) => d.progress && d.progress.step === 'transcode' && typeof d.progress.percent === 'number')).toBe(true);
});

test('when the reports stop (the media worker is gone) the read asks Temporal again and says what it says', async () => {
  const media = await stack.startWorkers(['media']);
  // The stack's own media worker goes first, so this upload's encode runs on the one we kill.
  const own = stack.workers.procs.get('media')!;
  own.kill('SIGKILL');
  await new Promise((r) => own.once('exit', r));
  const res = await stack.api.app.inject({
    method: 'POST',
    url: '/videos',
    payload: { videoId: 'fed-2', source: { kind: 'file', path: 'clip.mp4' } },
  });
  expect(res.statusCode).toBe(202);
  await firstFedRead('fed-2');
  media.procs.get('media')!.kill('SIGKILL');
  await sleep(FEED_FRESH_MS + 1_000);
  const before = asked.describe;
  const doc = await get('fed-2');
  expect(asked.describe).toBeGreaterThan(before);
  // Temporal still holds the started attempt until its heartbeat timeout: processing, transcode.
  expect(doc).toMatchObject({ status: 'processing', workflowStatus: 'RUNNING', step: 'transcode', temporalReachable: true });
});
