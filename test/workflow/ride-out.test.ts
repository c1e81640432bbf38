/**
 * Media work whose attempts a full disk or an unreachable store used up is scheduled again with a
 * fresh budget, a bounded number of times (src/workflows/ride-out.ts); media that is bad is not.
 * The stubs ask for a 100 ms pause between attempts (the real ones ask 15–60 s) so the attempts
 * run quickly; the workflow's own pause between budgets is the production one.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, type ErrorTypeName } from '../../src/errors';
import { MAX_RIDE_OUTS } from '../../src/workflows/ride-out';
import { maximumAttemptsOf } from '../../src/pipeline/retry-presets';
import { failureTypeOf, transcodeOutput, WorkflowHarness } from './harness';

const harness = new WorkflowHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const machineFailure = (type: ErrorTypeName) => ApplicationFailure.create({ type, message: `${type} (stub)`, nextRetryDelay: 100 });

test('a disk full for longer than one attempt budget: the media step is scheduled again and the video completes', async () => {
  const budget = maximumAttemptsOf('mediaStep');
  let failuresLeft = budget + 1;
  await harness.run(
    'ride-out-disk',
    () => ({
      transcode: async (input) => {
        if (failuresLeft-- > 0) throw machineFailure(ErrorType.DiskFull);
        return transcodeOutput(input.videoId);
      },
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      await handle.result();
      const outcomes = calls.of('prepareMedia').map((c) => c.outcome);
      expect(outcomes).toEqual([...Array<string>(budget + 1).fill('failed'), 'completed']);
      expect(calls.names()).not.toContain('recordFailure');
    },
  );
}, 60_000);

test('an object store that stays unreachable: bounded, then dead-lettered StorageUnavailable', async () => {
  await harness.run(
    'ride-out-bounded',
    () => ({
      transcode: async () => {
        throw machineFailure(ErrorType.StorageUnavailable);
      },
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      expect(await failureTypeOf(handle.result())).toBe(ErrorType.StorageUnavailable);
      expect(calls.of('prepareMedia')).toHaveLength(maximumAttemptsOf('mediaStep') * (1 + MAX_RIDE_OUTS));
      expect(calls.of('recordFailure')).toHaveLength(1);
    },
  );
}, 120_000);

test('bad media is not scheduled again: one attempt, dead-lettered with its own type', async () => {
  await harness.run(
    'ride-out-not-media',
    () => ({
      transcode: async () => {
        throw ApplicationFailure.create({ type: ErrorType.InvalidMedia, message: 'not a video (stub)', nonRetryable: true });
      },
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      expect(await failureTypeOf(handle.result())).toBe(ErrorType.InvalidMedia);
      expect(calls.of('prepareMedia')).toHaveLength(1);
    },
  );
}, 60_000);
