/**
 * processVideo's main branches on the real workflow code with stub activities: the order of the
 * steps and the queue each activity runs on, the segmented fan-out, compensation of the index
 * saga, and an operator's cancel. Every failing stub fails non-retryably, so no test waits for
 * a retry backoff.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ErrorType } from '../../src/errors';
import type { ProcessVideoResult } from '../../src/workflows/contracts';
import { statusQuery } from '../../src/workflows/messages';
import {
  cancelRequested,
  facts,
  failureTypeOf,
  holdUntilCancelled,
  WorkflowHarness,
  type ActivityCall,
  type CallRecorder,
  type Stubs,
} from './harness';

const harness = new WorkflowHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

test('runs plan → transcode → HLS → analysis inputs → storyboard as one media task, then analyze → row → vector → searchable, each on its catalogue queue', async () => {
  await harness.run(
    'happy',
    () => ({}),
    async ({ queues, calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      const result: ProcessVideoResult = await handle.result();

      expect(calls.calls.map((c) => [c.name, c.taskQueue])).toEqual([
        // A short upload's whole media step is one task (src/workflows/media-step.ts): its parts
        // run inside it, in order, scrub previews last.
        ['prepareMedia', queues.media],
        ['planTranscode', queues.media],
        ['transcode', queues.media],
        ['packageHls', queues.media],
        ['extractAnalysisInputs', queues.media],
        ['generateStoryboard', queues.media],
        ['analyze', queues.ai],
        ['writeIndexRow', queues.index],
        ['upsertVector', queues.index],
        ['markSearchable', queues.index],
      ]);
      expect(calls.calls.every((c) => !c.isLocal && c.outcome === 'completed')).toBe(true);
      const [step, ...parts] = calls.calls.slice(0, 6);
      for (const part of parts) {
        expect(part.startSeq).toBeGreaterThan(step?.startSeq ?? Infinity);
        expect(part.endSeq).toBeLessThan(step?.endSeq ?? -Infinity);
      }
      expect(result.media.storyboard?.track).toBe('storyboard.vtt');
      expect(result.media.hls?.masterPath).toMatch(/master\.m3u8$/);
      expect(result.analysis.summary).toBe('a full analysis');
      expect(result.index).toEqual({ collection: 'videos_stub_8', indexedAt: '2026-12-01T00:00:00.000Z' });
      const state = await handle.query(statusQuery);
      expect(state.step).toBe('done');
      expect(state.analysisState).toBe('complete');
      expect(state.steps.transcode?.queue).toBe(queues.media);
      expect(state.steps.index?.finishedAt).toBeDefined();
    },
  );
});

/** Five segments of a plan stored in the work area: the workflow is handed their count and the plan's digest only. */
const plan = {
  segmented: true,
  segmentSec: 4,
  count: 5,
  planDigest: 'd1ge57',
  facts: { ...facts },
  hasAudio: true,
};

test('encodes every segment of the plan once, at most maxParallel at a time, audio alongside, then joins', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  await harness.run(
    'segmented',
    () => ({
      planTranscode: async () => plan,
      encodeSegment: async ({ index }) => {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        // Segment 0 is the slowest, so the segments finish out of index order.
        await delay(index === 0 ? 900 : 300);
        inFlight--;
        return { index, durationSec: 4, reused: false };
      },
      encodeAudio: async () => {
        await delay(300);
        return { durationSec: 18.5, reused: false };
      },
    }),
    async ({ queues, calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input({ segmentation: { maxParallel: 2 } }));
      await handle.result();

      expect(maxInFlight).toBe(2);
      const segments = calls.of('encodeSegment');
      expect(segments.map((c) => c.taskQueue)).toEqual(Array(5).fill(`${queues.media}-segments`));
      // Each segment once, by position in the stored plan, named by its digest (two run at a
      // time, so they may start in either order).
      const byIndex = segments.map((c) => c.input as { index: number }).sort((a, b) => a.index - b.index);
      expect(byIndex).toEqual(
        [0, 1, 2, 3, 4].map((index) => ({ videoId: expect.any(String), index, count: 5, planDigest: plan.planDigest })),
      );
      const [audio] = calls.of('encodeAudio');
      expect(audio?.taskQueue).toBe(queues.media);
      // Alongside: the audio was in flight while segments were.
      expect(audio?.startSeq).toBeLessThan(Math.max(...segments.map((c) => c.endSeq ?? -Infinity)));
      expect(audio?.endSeq).toBeGreaterThan(Math.min(...segments.map((c) => c.startSeq)));
      const [join] = calls.of('joinSegments');
      expect(join?.input).toEqual({ videoId: expect.any(String), count: 5, planDigest: plan.planDigest, hasAudio: true });
      expect(join?.startSeq).toBeGreaterThan(Math.max(...[...segments, audio].map((c) => c?.endSeq ?? Infinity)));
      expect(calls.names()).not.toContain('transcode');
      expect(calls.names()).not.toContain('discardSegments');
      const [hls] = calls.of('packageHls');
      expect(hls?.input).toMatchObject({ renditionPath: expect.stringMatching(/joined\.mp4$/), segmentSec: 4 });
      // The plan came back from the first media task; after the join, the rest is one more task.
      const [prepare] = calls.of('prepareMedia');
      const [finish] = calls.of('finishMedia');
      expect(prepare?.endSeq).toBeLessThan(Math.min(...segments.map((c) => c.startSeq)));
      expect(finish?.startSeq).toBeGreaterThan(join?.endSeq ?? Infinity);
      expect(finish?.taskQueue).toBe(queues.media);
      for (const part of ['packageHls', 'extractAnalysisInputs', 'generateStoryboard'] as const) {
        const [call] = calls.of(part);
        expect(call?.startSeq).toBeGreaterThan(finish?.startSeq ?? Infinity);
        expect(call?.endSeq).toBeLessThan(finish?.endSeq ?? -Infinity);
      }
      expect((await handle.query(statusQuery)).segments).toEqual({ done: 5, count: 5 });
    },
  );
});

/** A segment that fails for good once segment 0 and the audio are in flight, so there is something to cancel. */
function failingSegments(calls: CallRecorder, cleanupMs = 0): Partial<Stubs> {
  return {
    planTranscode: async () => plan,
    encodeSegment: async ({ index }) => {
      if (index !== 1) return holdUntilCancelled(cleanupMs);
      await calls.until('segment 0 and audio started', () => calls.of('encodeSegment').length >= 2 && calls.of('encodeAudio').length >= 1);
      throw ApplicationFailure.create({ type: ErrorType.TranscodeFailed, message: 'segment 2 of 5 is 0 s long', nonRetryable: true });
    },
    encodeAudio: () => holdUntilCancelled(cleanupMs),
  };
}

const indexOf = (c: ActivityCall | undefined) => (c?.input as { index: number } | undefined)?.index;

test('a segment failing for good cancels the encodes in flight, discards the work area, records the failure and fails with its type', async () => {
  await harness.run(
    'segment-fails',
    (calls) => failingSegments(calls),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input({ segmentation: { maxParallel: 2 } }));

      expect(await failureTypeOf(handle.result())).toBe(ErrorType.TranscodeFailed);
      // The workflow asked for the cancellation of exactly the two encodes still in flight…
      expect(cancelRequested(await handle.fetchHistory())).toEqual(['encodeAudio', 'encodeSegment']);
      // …and they stop (the next test checks *when*).
      await calls.until('segment 0 and audio cancelled', () =>
        [...calls.of('encodeSegment').filter((c) => indexOf(c) === 0), ...calls.of('encodeAudio')].every((c) => c.outcome === 'cancelled'),
      );
      // The pool stopped pulling after the failure: segments 2–4 never started.
      expect(calls.of('encodeSegment').map(indexOf).sort()).toEqual([0, 1]);
      expect(calls.of('discardSegments')).toHaveLength(1);
      expect(calls.names()).not.toContain('joinSegments');
      const [recorded] = calls.of('recordFailure');
      expect(recorded?.input).toMatchObject({
        step: 'transcode',
        errorType: ErrorType.TranscodeFailed,
        message: 'segment 2 of 5 is 0 s long',
      });
      expect(calls.of('discardSegments')[0]?.startSeq).toBeLessThan(recorded?.startSeq ?? -1);
    },
  );
});

// WAIT_CANCELLATION_COMPLETED only helps if the workflow awaits the cancelled encodes: once
// Promise.all has rejected, nothing else would, and the work area would go under a running ffmpeg.
test('a segment failing for good discards the work area only after the cancelled encodes have stopped', async () => {
  // A second of clean-up after the cancellation: stopping before the discard cannot be luck.
  await harness.run(
    'segment-fails-order',
    (calls) => failingSegments(calls, 1000),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input({ segmentation: { maxParallel: 2 } }));
      await handle.result().catch(() => undefined);

      const inFlight = [...calls.of('encodeSegment').filter((c) => indexOf(c) === 0), ...calls.of('encodeAudio')];
      const [discard] = calls.of('discardSegments');
      expect(inFlight.map((c) => [c.name, c.outcome, c.error?.message])).toEqual([
        ['encodeSegment', 'cancelled', 'CANCELLED'],
        ['encodeAudio', 'cancelled', 'CANCELLED'],
      ]);
      expect(Math.max(...inFlight.map((c) => c.endSeq ?? Infinity))).toBeLessThan(discard?.startSeq ?? -1);
    },
  );
});

test('a storyboard failing for good does not fail the video: it goes ready without one', async () => {
  await harness.run(
    'storyboard-fails',
    () => ({
      generateStoryboard: async () => {
        throw ApplicationFailure.create({ type: ErrorType.TranscodeFailed, message: 'storyboard thumbnails failed', nonRetryable: true });
      },
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      const result: ProcessVideoResult = await handle.result();
      expect(calls.of('generateStoryboard')).toHaveLength(1);
      expect(calls.names().slice(-3)).toEqual(['writeIndexRow', 'upsertVector', 'markSearchable']);
      expect(calls.names()).not.toContain('recordFailure');
      expect(result.media.storyboard).toBeUndefined();
      expect(result.media.hls?.masterPath).toMatch(/master\.m3u8$/);
    },
  );
});

// The media task swallows a storyboard failure (a nicety), so it must tell an operator's cancel apart.
test('a cancel that arrives while the storyboard runs inside the media task still cancels the run', async () => {
  await harness.run(
    'storyboard-cancel',
    () => ({ generateStoryboard: () => holdUntilCancelled() }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      await calls.waitFor('generateStoryboard');
      await handle.cancel();
      const err: unknown = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect(calls.of('prepareMedia').map((c) => c.outcome)).toEqual(['cancelled']);
      expect(calls.names()).not.toContain('analyze');
      expect((await handle.describe()).status.name).toBe('CANCELLED');
    },
  );
});

test('a published storyboard travels with the media output the row keeps', async () => {
  await harness.run(
    'storyboard-ok',
    () => ({}),
    async ({ input, startProcessVideo }) => {
      const result: ProcessVideoResult = await (await startProcessVideo(input())).result();
      expect(result.media.storyboard).toMatchObject({ track: 'storyboard.vtt', tiles: 1 });
    },
  );
});

test('a vector write failing for good compensates the index row, records the failure and never marks the video searchable', async () => {
  await harness.run(
    'compensate',
    () => ({
      upsertVector: async () => {
        throw ApplicationFailure.create({ type: ErrorType.VectorStoreUnavailable, message: 'lancedb: disk I/O error', nonRetryable: true });
      },
    }),
    async ({ videoId, calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());

      expect(await failureTypeOf(handle.result())).toBe(ErrorType.VectorStoreUnavailable);
      expect(calls.names().slice(-4)).toEqual(['writeIndexRow', 'upsertVector', 'compensateIndex', 'recordFailure']);
      expect(calls.of('compensateIndex')[0]?.input).toEqual({
        videoId,
        space: { analyzer: 'stub', model: 'stub-model', dim: 8 },
        errorType: ErrorType.VectorStoreUnavailable,
        message: 'lancedb: disk I/O error',
      });
      expect(calls.of('recordFailure')[0]?.input).toMatchObject({ step: 'index', errorType: ErrorType.VectorStoreUnavailable });
      expect(calls.names()).not.toContain('markSearchable');
      const state = await handle.query(statusQuery);
      expect(state.step).toBe('failed');
      expect(state.error).toMatchObject({ type: ErrorType.VectorStoreUnavailable, step: 'index' });
    },
  );
});

test('cancelling a run waits for the media activity to stop, records WorkflowCancelled and ends CANCELLED', async () => {
  await harness.run(
    'cancel',
    () => ({
      // 750 ms of clean-up after the cancellation: the run must not close before it is over.
      transcode: () => holdUntilCancelled(750),
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      await calls.waitFor('transcode');
      await handle.cancel();

      const err: unknown = await handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      // Read at the moment the run reported closed: the stub must already have finished.
      const [transcode] = calls.of('transcode');
      expect(transcode?.outcome).toBe('cancelled');
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      expect((await handle.describe()).status.name).toBe('CANCELLED');
      const [recorded] = calls.of('recordFailure');
      expect(recorded?.input).toMatchObject({ step: 'transcode', errorType: ErrorType.WorkflowCancelled });
      expect(transcode?.endSeq).toBeLessThan(recorded?.startSeq ?? -1);
    },
  );
});

// Promise.all rejects as soon as the *first* encode has stopped; deleteVideo relies on "the run has
// closed ⇒ nothing of it still writes" (src/workflows/delete-video.ts), so the run must wait for all.
test('cancelling a segmented run closes it only after every encode in flight has stopped', async () => {
  await harness.run(
    'cancel-segmented',
    () => ({
      planTranscode: async () => plan,
      // Segment 1 takes longer than the others to stop its ffmpeg.
      encodeSegment: async ({ index }) => holdUntilCancelled(index === 1 ? 2500 : 0),
      encodeAudio: () => holdUntilCancelled(),
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input({ segmentation: { maxParallel: 2 } }));
      await calls.until(
        'two segments and the audio in flight',
        () => calls.of('encodeSegment').length === 2 && calls.of('encodeAudio').length === 1,
      );
      await handle.cancel();
      await handle.result().catch(() => undefined);

      // Read at the moment the run reported closed.
      expect([...calls.of('encodeSegment'), ...calls.of('encodeAudio')].map((c) => c.outcome)).toEqual([
        'cancelled',
        'cancelled',
        'cancelled',
      ]);
    },
  );
});
