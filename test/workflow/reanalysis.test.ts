/**
 * Issue 25, re-analysis on demand, on the real workflow code with stub activities: an operator's
 * "try now" cuts a run's re-analysis wait short, and workflow reanalyzeVideo (for a run that has
 * ended) analyses and re-indexes from the recorded media output — or leaves the stand-in when the
 * provider is still away.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../src/errors';
import type { reanalyzeVideo } from '../../src/workflows';
import type { IndexInput, ReanalyzeVideoInput } from '../../src/workflows/contracts';
import { reanalysisWorkflowIdFor } from '../../src/workflows/ids';
import { reanalyzeNowSignal, statusQuery } from '../../src/workflows/messages';
import { eventually, fullAnalysis, startedTimers, transcodeOutput, WorkflowHarness } from './harness';

const harness = new WorkflowHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

/** AiDeferred with the production schedule's last step only: an hour to the next try. */
const deferredForAnHour = () =>
  ApplicationFailure.create({
    type: ErrorType.AiDeferred,
    message: 'the AI service stayed unavailable',
    nonRetryable: true,
    details: [{ reanalyzeDelaysMs: [3_600_000] }],
  });

test('signal reanalyzeNow makes a run waiting on an hour-long re-analysis timer try at once, and re-index as complete', async () => {
  await harness.run(
    'try-now',
    (calls) => ({
      analyze: async () => {
        if (calls.of('analyze').length === 1) throw deferredForAnHour();
        return fullAnalysis('analysed on request');
      },
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      const waiting = await eventually(
        'the run waits on its re-analysis timer',
        () => handle.query(statusQuery),
        (s) => s.step === 'done' && s.analysisState === 'delayed' && calls.of('markSearchable').length === 1,
      );
      expect(waiting.analysis?.degraded).toBe(true);

      await handle.signal(reanalyzeNowSignal);
      const result = await handle.result();

      expect(result.analysis.summary).toBe('analysed on request');
      expect(calls.of('analyze')).toHaveLength(2);
      expect(startedTimers(await handle.fetchHistory())).toBe(1);
      // The row learns which analysis it holds: what GET /videos?status=delayed filters on.
      expect(calls.of('writeIndexRow').map((c) => (c.input as IndexInput).analysisState)).toEqual(['delayed', 'complete']);
      expect((await handle.query(statusQuery)).analysisState).toBe('complete');
    },
  );
});

test('reanalyzeVideo cuts the analysis inputs from the recorded rendition, analyses and re-indexes as complete', async () => {
  await harness.run(
    'reanalyze',
    () => ({ analyze: async () => fullAnalysis('analysed after the run ended') }),
    async ({ env, queues, calls, videoId }) => {
      const input: ReanalyzeVideoInput = {
        videoId,
        source: { kind: 'file', path: `/ingest/${videoId}.mp4` },
        media: transcodeOutput(videoId),
        queues,
      };
      const result = await env.client.workflow.execute<typeof reanalyzeVideo>('reanalyzeVideo', {
        workflowId: reanalysisWorkflowIdFor(videoId),
        taskQueue: queues.pipeline,
        args: [input],
      });
      expect(result).toEqual({ videoId, analysisState: 'complete' });
      expect(calls.of('extractAnalysisInputs')[0]?.input).toMatchObject({ renditionPath: input.media.renditionPath, hasAudio: true });
      expect(calls.of('extractAnalysisInputs')[0]?.taskQueue).toBe(queues.media);
      expect(calls.of('analyze')[0]?.taskQueue).toBe(queues.ai);
      const [row] = calls.of('writeIndexRow');
      expect(row?.input).toMatchObject({ analysisState: 'complete', analysis: { summary: 'analysed after the run ended' } });
      expect(calls.of('markSearchable')).toHaveLength(1);
      // Never the failure path: the video is ready whatever happens to its re-analysis.
      expect(calls.of('recordFailure')).toHaveLength(0);
    },
  );
});

test('reanalyzeVideo with the provider still away leaves the stand-in in place and says delayed', async () => {
  await harness.run(
    'still-away',
    () => ({ analyze: async () => Promise.reject(deferredForAnHour()) }),
    async ({ env, queues, calls, videoId }) => {
      const result = await env.client.workflow.execute<typeof reanalyzeVideo>('reanalyzeVideo', {
        workflowId: reanalysisWorkflowIdFor(videoId),
        taskQueue: queues.pipeline,
        args: [{ videoId, source: { kind: 'file', path: `/ingest/${videoId}.mp4` }, media: transcodeOutput(videoId), queues }],
      });
      expect(result).toEqual({ videoId, analysisState: 'delayed', reason: ErrorType.AiDeferred });
      expect(calls.of('writeIndexRow')).toHaveLength(0);
      expect(calls.of('recordFailure')).toHaveLength(0);
    },
  );
});
