/**
 * Dead-letter replay on the real workflow code with stub activities (issue 25): a replay resets
 * the failed run to the start of its failed step, so a worker setting that the step's first
 * activity recorded (the plan's segment length) is read again; and the dead letter counts the
 * attempts an activity really took when it failed by heartbeat timeouts.
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { resetPoint } from '../../src/app/dead-letter-service';
import { stepAttempts } from '../../src/activities/record-failure';
import { ErrorType } from '../../src/errors';
import { maximumAttemptsOf } from '../../src/pipeline/retry-presets';
import type { RecordFailureInput } from '../../src/workflows/contracts';
import { statusQuery } from '../../src/workflows/messages';
import { eventually, WorkflowHarness } from './harness';

const harness = new WorkflowHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

test('a replay re-runs the failed step from its plan: a segment length fixed on the worker is taken, and the video goes ready', async () => {
  // The media worker's MEDIA_SEGMENT_SEC as the plan reads it; HLS takes 1–60 s (as packageHls does).
  let workerSegmentSec = 600;
  await harness.run(
    'replay-plan',
    () => ({
      planTranscode: async () => ({ segmented: false, segmentSec: workerSegmentSec, count: 0, planDigest: '', hasAudio: true }),
      packageHls: async ({ videoId, segmentSec }) => {
        if (segmentSec > 60) throw ApplicationFailure.nonRetryable(`segmentSec must be 1–60 s, got ${segmentSec}`, ErrorType.InvalidMedia);
        return { masterPath: `/media/${videoId}/hls/master.m3u8`, variants: [] };
      },
    }),
    async ({ env, calls, input, startProcessVideo }) => {
      const failed = await startProcessVideo(input());
      await expect(failed.result()).rejects.toThrow();
      const [recorded] = calls.of('recordFailure');
      const step = (recorded?.input as RecordFailureInput).step;
      expect(step).toBe('transcode');

      workerSegmentSec = 10; // the operator fixes the setting and restarts the worker
      const { runId } = await failed.describe();
      const history = await env.client.workflow.getHandle(failed.workflowId, runId).fetchHistory();
      // As DeadLetterService.replay does it.
      const res = await env.client.workflowService.resetWorkflowExecution(
        temporal.api.workflowservice.v1.ResetWorkflowExecutionRequest.fromObject({
          namespace: env.client.options.namespace,
          workflowExecution: { workflowId: failed.workflowId, runId },
          reason: 'test replay',
          workflowTaskFinishEventId: resetPoint(history.events ?? [], step),
          requestId: randomUUID(),
        }),
      );
      const replayed = env.client.workflow.getHandle(failed.workflowId, res.runId ?? undefined);
      const result = await replayed.result();

      expect(result.media.hls?.masterPath).toMatch(/master\.m3u8$/);
      expect((await replayed.query(statusQuery)).step).toBe('done');
      // The plan ran again (the step from its beginning) and the ladder got the fixed length.
      expect(calls.of('planTranscode')).toHaveLength(2);
      expect(calls.of('packageHls').map((c) => (c.input as { segmentSec: number }).segmentSec)).toEqual([600, 10]);
    },
  );
});

test('a dead letter counts every attempt of an activity that failed by heartbeat timeouts', async () => {
  await harness.run(
    'attempts',
    () => ({
      // Alive but never heartbeating (the long keyframe pass): each attempt ends at the heartbeat timeout.
      extractAnalysisInputs: async () => {
        await Context.current().sleep(60_000);
        throw new Error('unreachable: the attempt timed out long ago');
      },
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      await expect(handle.result()).rejects.toThrow();
      await eventually(
        'the failure recorded',
        async () => calls.of('recordFailure').length,
        (n) => n === 1,
      );
      const events = (await handle.fetchHistory()).events ?? [];
      expect(calls.of('extractAnalysisInputs')).toHaveLength(maximumAttemptsOf('analysisInputs'));
      expect(stepAttempts(events, 'transcode')).toBe(maximumAttemptsOf('analysisInputs'));
    },
  );
}, 120_000);
