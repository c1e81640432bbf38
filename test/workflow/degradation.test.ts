/**
 * The analyze step when the provider is away or refuses (src/workflows/analysis-step.ts): the
 * video is indexed on the metadata-only stand-in, a deferred analysis is tried again on durable
 * timers whose schedule rides on the AiDeferred failure, and a refused one is not.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../src/errors';
import type { IndexInput } from '../../src/workflows/contracts';
import { statusQuery } from '../../src/workflows/messages';
import { fullAnalysis, startedTimers, WorkflowHarness } from './harness';

const harness = new WorkflowHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

/** What the analysis activity throws after its bounded wait, with the re-analysis schedule attached. */
const deferred = () =>
  ApplicationFailure.create({
    type: ErrorType.AiDeferred,
    message: 'the AI service stayed unavailable for 10 min',
    nonRetryable: true,
    details: [{ reanalyzeDelaysMs: [500, 1000] }],
  });

test('a deferred analysis indexes the stand-in at once, re-analyzes on its timers and re-indexes when one succeeds', async () => {
  let releaseFirstRetry: () => void = () => undefined;
  const firstRetryHeld = new Promise<void>((resolve) => (releaseFirstRetry = resolve));
  await harness.run(
    'deferred',
    (calls) => ({
      analyze: async () => {
        const n = calls.of('analyze').length;
        if (n === 1) throw deferred();
        // The first re-analysis is held until the test has read the status while the run waits.
        if (n === 2) {
          await firstRetryHeld;
          throw deferred();
        }
        return fullAnalysis('the full analysis, later');
      },
    }),
    async ({ queues, calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      await calls.waitFor('analyze', 2);

      const waiting = await handle.query(statusQuery);
      expect(waiting.step).toBe('done');
      expect(waiting.analysisState).toBe('delayed');
      expect(waiting.analysis?.degraded).toBe(true);
      expect(waiting.index?.collection).toBe('videos_stub_8');
      releaseFirstRetry();
      const result = await handle.result();

      const [first, retry1, retry2] = calls.of('analyze');
      const [degraded] = calls.of('analyzeDegraded');
      expect(degraded?.taskQueue).toBe(queues.ai);
      expect(degraded?.input).toMatchObject({ reason: ErrorType.AiDeferred });
      // The timers of the failure's schedule (plus up to 50 % jitter) lie between the tries.
      expect((retry1?.startedAt ?? 0) - (first?.endedAt ?? Infinity)).toBeGreaterThanOrEqual(500);
      expect((retry2?.startedAt ?? 0) - (retry1?.endedAt ?? Infinity)).toBeGreaterThanOrEqual(1000);
      expect(calls.of('analyze')).toHaveLength(3);
      expect(startedTimers(await handle.fetchHistory())).toBe(2);
      // Indexed twice: the stand-in at once, the full analysis when it came.
      expect(calls.of('writeIndexRow').map((c) => (c.input as IndexInput).analysis.summary)).toEqual([
        'metadata only (AiDeferred)',
        'the full analysis, later',
      ]);
      expect(calls.of('markSearchable')).toHaveLength(2);
      expect(result.analysis.summary).toBe('the full analysis, later');
      const done = await handle.query(statusQuery);
      expect(done.analysisState).toBe('complete');
      expect(done.step).toBe('done');
    },
  );
});

test('an analysis refused for its content indexes the stand-in, says analysis failed and sets no timers', async () => {
  await harness.run(
    'rejected',
    () => ({
      analyze: async () => {
        // A schedule rides along, so a run that wrongly set timers for a refusal would show it at once.
        throw ApplicationFailure.create({
          type: ErrorType.AiContentRejected,
          message: 'content policy',
          nonRetryable: true,
          details: [{ reanalyzeDelaysMs: [200] }],
        });
      },
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      const result = await handle.result();

      expect(calls.of('analyze')).toHaveLength(1);
      expect(calls.of('analyzeDegraded')[0]?.input).toMatchObject({ reason: ErrorType.AiContentRejected });
      expect(calls.of('writeIndexRow')).toHaveLength(1);
      expect(result.analysis.degraded).toBe(true);
      const state = await handle.query(statusQuery);
      expect(state.step).toBe('done');
      expect(state.analysisState).toBe('failed');
      expect(startedTimers(await handle.fetchHistory())).toBe(0);
      expect(calls.names()).not.toContain('recordFailure');
    },
  );
});
