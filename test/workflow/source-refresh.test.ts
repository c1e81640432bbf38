/**
 * A source URL that expires mid-run (src/workflows/source-refresh.ts): an external URL waits for
 * signal refreshSourceUrl up to its deadline; an upload is signed again by the pipeline worker's
 * local activity. The media stubs throw SourceUrlExpired (non-retryable) for a stale URL.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../src/errors';
import type { TranscodeInput } from '../../src/workflows/contracts';
import { refreshSourceUrlSignal, statusQuery } from '../../src/workflows/messages';
import { eventually, failureTypeOf, transcodeOutput, WorkflowHarness } from './harness';

const harness = new WorkflowHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const urlOf = (input: unknown) => {
  const { source } = input as TranscodeInput;
  // An upload's signed URL travels sealed (the stub's sealing is the identity).
  return source.kind === 'file' ? source.path : source.kind === 'upload' ? (source.sealed ?? source.url) : source.url;
};

/** A transcode that refuses every URL containing `stale`, as the real one does on a 403. */
async function transcodeRefusing(stale: string, input: TranscodeInput) {
  const url = urlOf(input) ?? '';
  if (url.includes(stale)) {
    throw ApplicationFailure.create({ type: ErrorType.SourceUrlExpired, message: `GET ${url} → 403 (expired)`, nonRetryable: true });
  }
  return transcodeOutput(input.videoId);
}

test('an expired external URL waits for refreshSourceUrl, then transcodes from the new URL and completes', async () => {
  await harness.run(
    'url-refresh',
    () => ({ transcode: (input) => transcodeRefusing('old', input) }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(
        input({ source: { kind: 'url', url: 'https://cdn.test/old.mp4?sig=1' }, sourceRefreshDeadlineMs: 60_000 }),
      );
      const waiting = await eventually(
        'the status to show the wait for a new URL',
        () => handle.query(statusQuery),
        (s) => s.waitingForSource !== undefined,
      );
      expect(waiting.step).toBe('transcode');
      expect(waiting.waitingForSource?.reason).toContain('403 (expired)');
      const { since, deadline } = waiting.waitingForSource ?? { since: '', deadline: '' };
      expect(Date.parse(deadline) - Date.parse(since)).toBe(60_000);

      await handle.signal(refreshSourceUrlSignal, { url: 'https://cdn.test/new.mp4?sig=2' });
      await handle.result();

      expect(calls.of('transcode').map((c) => [urlOf(c.input), c.outcome])).toEqual([
        ['https://cdn.test/old.mp4?sig=1', 'failed'],
        ['https://cdn.test/new.mp4?sig=2', 'completed'],
      ]);
      // The media step runs again from its plan with the new URL.
      expect(calls.of('planTranscode').map((c) => urlOf(c.input))).toEqual([
        'https://cdn.test/old.mp4?sig=1',
        'https://cdn.test/new.mp4?sig=2',
      ]);
      expect(calls.names()).not.toContain('recordFailure');
      const done = await handle.query(statusQuery);
      expect(done.step).toBe('done');
      expect(done.waitingForSource).toBeUndefined();
    },
  );
});

test('an expired external URL with no new one before the deadline fails SourceUrlExpired and records the failure', async () => {
  await harness.run(
    'url-deadline',
    () => ({ transcode: (input) => transcodeRefusing('old', input) }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(
        input({ source: { kind: 'url', url: 'https://cdn.test/old.mp4?sig=1' }, sourceRefreshDeadlineMs: 2_000 }),
      );

      expect(await failureTypeOf(handle.result())).toBe(ErrorType.SourceUrlExpired);
      const [transcode] = calls.of('transcode');
      const [recorded] = calls.of('recordFailure');
      expect(calls.of('transcode')).toHaveLength(1);
      expect(recorded?.input).toMatchObject({ step: 'transcode', errorType: ErrorType.SourceUrlExpired });
      expect((recorded?.input as { message: string }).message).toContain('no new one arrived within 2 s');
      // It did wait for the deadline before giving up.
      expect((recorded?.startedAt ?? 0) - (transcode?.endedAt ?? Infinity)).toBeGreaterThanOrEqual(2_000);
    },
  );
});

test('an upload is signed by a local activity on the pipeline worker, and signed again after its URL expired', async () => {
  await harness.run(
    'upload-resign',
    () => ({ transcode: (input) => transcodeRefusing('sig=1', input) }),
    async ({ queues, calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input({ source: { kind: 'upload', key: 'uploads/clip.mp4' } }));
      await handle.result();

      expect(calls.of('signSourceUrl').map((c) => [c.taskQueue, c.isLocal, c.input])).toEqual([
        [queues.pipeline, true, { key: 'uploads/clip.mp4' }],
        [queues.pipeline, true, { key: 'uploads/clip.mp4' }],
      ]);
      expect(calls.of('transcode').map((c) => [urlOf(c.input), c.outcome])).toEqual([
        ['https://storage.test/uploads/clip.mp4?sig=1', 'failed'],
        ['https://storage.test/uploads/clip.mp4?sig=2', 'completed'],
      ]);
      // Each try is signed just before it: sign → the media task (plan → transcode inside), twice.
      expect(calls.names().slice(0, 8)).toEqual([
        'signSourceUrl',
        'prepareMedia',
        'planTranscode',
        'transcode',
        'signSourceUrl',
        'prepareMedia',
        'planTranscode',
        'transcode',
      ]);
      expect((await handle.query(statusQuery)).step).toBe('done');
    },
  );
});
