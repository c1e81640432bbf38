import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { ErrorType } from '../../src/errors';
import { closedRunError, endedFromOutside, hasEnded, isFailedLike } from '../../src/temporal/workflow-status';

// Every status the SDK can report, each with the answer of every question: a status added or
// moved in workflow-status.ts shows up here as a changed row.
const table: [WorkflowExecutionStatusName, { ended: boolean; failedLike: boolean; fromOutside: boolean }][] = [
  ['RUNNING', { ended: false, failedLike: false, fromOutside: false }],
  ['PAUSED', { ended: false, failedLike: false, fromOutside: false }],
  ['UNSPECIFIED', { ended: false, failedLike: false, fromOutside: false }],
  ['UNKNOWN', { ended: false, failedLike: false, fromOutside: false }],
  ['COMPLETED', { ended: true, failedLike: false, fromOutside: false }],
  ['CONTINUED_AS_NEW', { ended: true, failedLike: false, fromOutside: false }],
  ['FAILED', { ended: true, failedLike: true, fromOutside: false }],
  ['CANCELLED', { ended: true, failedLike: true, fromOutside: true }],
  ['TERMINATED', { ended: true, failedLike: true, fromOutside: true }],
  ['TIMED_OUT', { ended: true, failedLike: true, fromOutside: true }],
];

test.each(table)('%s', (status, expected) => {
  expect({ ended: hasEnded(status), failedLike: isFailedLike(status), fromOutside: endedFromOutside(status) }).toEqual(expected);
});

test('the status document’s own names and a misspelling are none of them', () => {
  for (const status of ['NOT_STARTED', 'CANCELED', 'completed', '']) {
    expect({ status, ended: hasEnded(status), failedLike: isFailedLike(status), fromOutside: endedFromOutside(status) }).toEqual({
      status,
      ended: false,
      failedLike: false,
      fromOutside: false,
    });
  }
});

test.each([
  ['FAILED', ErrorType.WorkflowFailed, /Web UI/],
  ['CANCELLED', ErrorType.WorkflowCancelled, /cancelled .*POST a new videoId/],
  ['TERMINATED', ErrorType.WorkflowTerminated, /terminated .*POST a new videoId/],
  ['TIMED_OUT', ErrorType.WorkflowTimedOut, /execution timeout \(WORKFLOW_EXECUTION_TIMEOUT_MS\).*POST a new videoId/],
] as const)('a run closed %s stands for %s, with what to do next', (status, type, message) => {
  const error = closedRunError(status);
  expect(error.type).toBe(type);
  expect(error.message).toMatch(message);
});

test('callers get their own copy', () => {
  const error = closedRunError('TERMINATED');
  error.message = 'changed';
  expect(closedRunError('TERMINATED').message).not.toBe('changed');
});
