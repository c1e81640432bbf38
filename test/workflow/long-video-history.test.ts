/**
 * Issue 25: nothing proportional to video length travels through workflow history. A 4-hour
 * source (the default MEDIA_MAX_DURATION_SEC) planned at the default 10 s segment length runs
 * through the real processVideo with stub activities; the fetched history must stay small in
 * both senses Temporal cares about: no payload near its 512 KB warning / 2 MB refusal, and
 * fewer events than the ~10k past which a run should continue as new.
 */
import { temporal } from '@temporalio/proto';
import { MAX_SEGMENTS, planDigest, planSegments } from '../../src/media/segment-plan';
import { facts, WorkflowHarness } from './harness';

const harness = new WorkflowHarness();
beforeAll(() => harness.start());
afterAll(() => harness.stop());

const FOUR_HOURS_SEC = 4 * 3600;
/** The default MEDIA_SEGMENT_SEC. */
const SEGMENT_SEC = 10;
/**
 * Largest single payload allowed: an eighth of Temporal's 512 KB warning. The run's fixed-size
 * payloads (facts, outputs, an analysis summary) are a few KB; anything near this bound grows
 * with the video and belongs in the work area, the database or the storage port.
 */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Temporal suggests continue-as-new well before its 50k hard limit; the server warns from 10,240. */
const MAX_EVENTS = 10_000;

/** What ffprobe finds in a typical camera file: a keyframe every 2 s. */
const keyframes = Array.from({ length: FOUR_HOURS_SEC / 2 }, (_, i) => i * 2);

/** Every payload's byte size in an event, wherever it sits in the event's attributes. */
function payloadSizes(value: unknown, out: number[] = []): number[] {
  if (!value || typeof value !== 'object') return out;
  const maybe = value as { data?: unknown; metadata?: unknown };
  if (maybe.data instanceof Uint8Array && maybe.metadata && typeof maybe.metadata === 'object') {
    out.push(maybe.data.byteLength);
    return out;
  }
  if (value instanceof Uint8Array) return out;
  for (const child of Object.values(value)) payloadSizes(child, out);
  return out;
}

function largestPayload(history: temporal.api.history.v1.IHistory): { bytes: number; eventType: string } {
  let largest = { bytes: 0, eventType: 'none' };
  for (const event of history.events ?? []) {
    for (const bytes of payloadSizes(event)) {
      if (bytes > largest.bytes) largest = { bytes, eventType: temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? '?' };
    }
  }
  return largest;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const isWorkflowTask = (e: HistoryEvent) =>
  Boolean(
    e.workflowTaskScheduledEventAttributes ??
    e.workflowTaskStartedEventAttributes ??
    e.workflowTaskCompletedEventAttributes ??
    e.workflowTaskFailedEventAttributes ??
    e.workflowTaskTimedOutEventAttributes,
  );

/** What wakes the workflow up: each can cost one workflow task (scheduled, started, completed). */
const wakesTheWorkflow = (e: HistoryEvent) =>
  Boolean(
    e.workflowExecutionStartedEventAttributes ??
    e.activityTaskCompletedEventAttributes ??
    e.activityTaskFailedEventAttributes ??
    e.activityTaskTimedOutEventAttributes ??
    e.activityTaskCanceledEventAttributes ??
    e.timerFiredEventAttributes ??
    e.workflowExecutionSignaledEventAttributes ??
    e.workflowExecutionCancelRequestedEventAttributes,
  );

/**
 * Stubs finish in milliseconds, so the server folds several completions into one workflow task;
 * real encodes of seconds each do not. The bound is asserted on the count with one workflow task
 * per wake-up, the most a real run of this plan can write.
 */
function eventsIfUnbatched(history: temporal.api.history.v1.IHistory): number {
  const events = history.events ?? [];
  return events.filter((e) => !isWorkflowTask(e)).length + 3 * events.filter(wakesTheWorkflow).length;
}

test('a 4-hour source segmented at 10 s goes through with every payload under 64 KB and under 10,000 events per history', async () => {
  // What planTranscode plans for this source on the default settings (the spans stay in its work area).
  const spans = planSegments({ durationSec: FOUR_HOURS_SEC, keyframes, targetSec: SEGMENT_SEC });
  await harness.run(
    'four-hours',
    () => ({
      planTranscode: async () => ({
        segmented: true,
        segmentSec: SEGMENT_SEC,
        count: spans.length,
        planDigest: planDigest('source-key', spans),
        facts: { ...facts, durationSec: FOUR_HOURS_SEC },
        hasAudio: true,
      }),
    }),
    async ({ calls, input, startProcessVideo }) => {
      const handle = await startProcessVideo(input());
      await handle.result();

      const history = await handle.fetchHistory();
      const events = history.events?.length ?? 0;
      const worstCase = eventsIfUnbatched(history);
      const largest = largestPayload(history);
      console.log(
        `4-hour run: ${calls.of('encodeSegment').length} segment activities, ${events} events (${worstCase} with one workflow task per completion), largest payload ${largest.bytes} B (${largest.eventType})`,
      );

      expect(calls.of('encodeSegment')).toHaveLength(spans.length);
      expect(spans.length).toBeLessThanOrEqual(MAX_SEGMENTS);
      expect(calls.of('joinSegments')).toHaveLength(1);
      expect(largest.bytes).toBeLessThan(MAX_PAYLOAD_BYTES);
      expect(events).toBeLessThanOrEqual(worstCase);
      expect(worstCase).toBeLessThan(MAX_EVENTS);
    },
  );
}, 600_000);
