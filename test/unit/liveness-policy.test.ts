import { ActivityCompletionError, ActivityNotFoundError } from '@temporalio/client';
import { NON_RETRYABLE_ERROR_TYPES } from '../../src/errors';
import { RETRY_PRESETS } from '../../src/pipeline/retry-presets';
import { alreadySettled, LOST_WORKER_RETRY_DELAY_MS, lostWorkerFailure, WatchdogGate } from '../../src/workers/liveness-policy';

const orphan = {
  taskToken: new Uint8Array([1, 2, 3]),
  workflowId: 'video-v1',
  runId: 'run-1',
  activityId: '7',
  activityType: 'transcodeVideo',
  attempt: 1,
  leaseId: '00000000-0000-0000-0000-000000000001',
  identity: 'media@host:4242',
  expiredForMs: 180,
};

test("a lost worker's attempt fails retryably, naming the worker, and is retried sooner than any media preset's first interval", () => {
  const f = lostWorkerFailure(orphan);
  expect(f.type).toBe('WorkerLost');
  expect(f.nonRetryable).toBe(false);
  expect(NON_RETRYABLE_ERROR_TYPES).not.toContain('WorkerLost');
  expect(f.message).toContain('media@host:4242');
  expect(f.message).toContain('transcodeVideo attempt 1');
  expect(f.nextRetryDelay).toBe(LOST_WORKER_RETRY_DELAY_MS);
  for (const preset of [RETRY_PRESETS.mediaStep, RETRY_PRESETS.segment, RETRY_PRESETS.analysisInputs, RETRY_PRESETS.storyboard]) {
    const opts = preset(10_000);
    expect(LOST_WORKER_RETRY_DELAY_MS).toBeLessThan(Number.parseInt(String(opts.retry?.initialInterval), 10) * 1000);
    expect(opts.retry?.maximumAttempts).toBeGreaterThan(1);
  }
});

test('an attempt that already ended (NOT_FOUND) counts as settled; any other refusal does not', () => {
  expect(alreadySettled(new ActivityNotFoundError('Not found'))).toBe(true);
  expect(alreadySettled(new ActivityCompletionError('unavailable'))).toBe(false);
  expect(alreadySettled(new Error('boom'))).toBe(false);
});

test('the watchdog acts only after the database has answered for a whole lease life without a break', () => {
  const gate = new WatchdogGate(2_500);
  expect(gate.mayAct(0)).toBe(false); // nothing heard yet
  gate.record(true, 1_000);
  expect(gate.mayAct(3_000)).toBe(false);
  gate.record(true, 3_000);
  expect(gate.mayAct(3_500)).toBe(true);
  // An outage: every lease looks expired once it ends, until the live workers have renewed.
  gate.record(false, 4_000);
  expect(gate.mayAct(4_000)).toBe(false);
  gate.record(true, 10_000);
  expect(gate.mayAct(11_000)).toBe(false);
  gate.record(true, 11_000);
  expect(gate.mayAct(12_499)).toBe(false);
  expect(gate.mayAct(12_500)).toBe(true);
});
