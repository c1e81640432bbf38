import { temporal } from '@temporalio/proto';
import { stepAttempts } from '../../src/activities/record-failure';

type Event = temporal.api.history.v1.IHistoryEvent;
const RetryState = temporal.api.enums.v1.RetryState;

// fromObject: event ids are int64 (Long) in the typings; it converts plain numbers.
const ev = (o: Record<string, unknown>): Event => temporal.api.history.v1.HistoryEvent.fromObject(o);
const scheduled = (eventId: number, type: string, maximumAttempts = 3): Event =>
  ev({
    eventId,
    activityTaskScheduledEventAttributes: { activityType: { name: type }, retryPolicy: { maximumAttempts } },
  });
const started = (eventId: number, scheduledEventId: number, attempt: number): Event =>
  ev({
    eventId,
    activityTaskStartedEventAttributes: { scheduledEventId, attempt },
  });
const completed = (eventId: number, scheduledEventId: number): Event =>
  ev({ eventId, activityTaskCompletedEventAttributes: { scheduledEventId } });
const timedOut = (eventId: number, scheduledEventId: number, retryState: temporal.api.enums.v1.RetryState): Event =>
  ev({
    eventId,
    activityTaskTimedOutEventAttributes: { scheduledEventId, retryState },
  });

test('the attempts of an activity that ran out of retries come from its closing event, not from an earlier activity of the step', () => {
  // packageHls done on attempt 1; extractAnalysisInputs exhausted its 3 attempts, its last one leaving no started event.
  const events = [
    scheduled(5, 'packageHls'),
    started(6, 5, 1),
    completed(7, 5),
    scheduled(9, 'extractAnalysisInputs'),
    timedOut(10, 9, RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED),
  ];
  expect(stepAttempts(events, 'transcode')).toBe(3);
});

test('the started event counts when it is there (3 heartbeat timeouts), and a non-retryable failure counts what ran', () => {
  expect(
    stepAttempts(
      [scheduled(9, 'extractAnalysisInputs'), started(10, 9, 3), timedOut(11, 9, RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED)],
      'transcode',
    ),
  ).toBe(3);
  expect(
    stepAttempts(
      [scheduled(9, 'packageHls'), started(10, 9, 2), timedOut(11, 9, RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE)],
      'transcode',
    ),
  ).toBe(2);
  // Activities of other steps never count.
  expect(stepAttempts([scheduled(9, 'analyze', 40), started(10, 9, 7)], 'transcode')).toBeNull();
});
