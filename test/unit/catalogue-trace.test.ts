import { ACTIVITIES, activitiesOfStep, segmentQueueOf, STEPS, taskQueues, type ActivityName } from '../../src/pipeline/catalogue';
import { maximumAttemptsOf } from '../../src/pipeline/retry-presets';
import type { StepTrace } from '../../src/temporal/step-trace';
import { completedRunViolations } from '../support/catalogue-trace';

// The per-run invariants the chaos suite (test/cluster/, outside `npm test`) asserts, proven here
// on traces built from the catalogue itself: when a step or activity changes, this file and the
// cluster suite follow the catalogue together instead of the cluster suite rotting alone.
const queues = taskQueues('t-');

function scheduled(activity: ActivityName, attempt = 1): StepTrace {
  const spec = ACTIVITIES[activity];
  const queue = 'lane' in spec ? segmentQueueOf(queues[spec.queue]) : queues[spec.queue];
  return { activity, taskQueue: queue, workerIdentity: `${spec.queue}@host:1`, attempt };
}

/** A run that scheduled every activity of every step once, in catalogue order. */
function everyStepOnce(): StepTrace[] {
  return STEPS.flatMap((step) => activitiesOfStep(step).map((a) => scheduled(a)));
}

test('a run that did every catalogued step once, each activity on its queue, has no violations', () => {
  expect(completedRunViolations(everyStepOnce(), queues)).toEqual([]);
});

test('the segment lane may schedule its activity once per segment; other activities only once', () => {
  const segment = activitiesOfStep('transcode').find((a) => 'lane' in ACTIVITIES[a])!;
  const twiceSegmented = everyStepOnce().flatMap((t) => (t.activity === segment ? [t, { ...t }] : [t]));
  expect(completedRunViolations(twiceSegmented, queues)).toEqual([]);

  const last = activitiesOfStep('index').at(-1)!;
  expect(completedRunViolations([...everyStepOnce(), scheduled(last)], queues)).toEqual([`${last} was scheduled more than once`]);
});

test.each(STEPS.map((s) => [s]))('a run where step %s did nothing is reported by name', (missing) => {
  const trace = everyStepOnce().filter((t) => ACTIVITIES[t.activity as ActivityName].step !== missing);
  expect(completedRunViolations(trace, queues)).toEqual([`step ${missing} ran no activity`]);
});

test('an activity the catalogue no longer knows (an old step list) is reported', () => {
  const trace = [...everyStepOnce(), { activity: 'indexVideo', taskQueue: queues.index, workerIdentity: 'index@host:1', attempt: 1 }];
  expect(completedRunViolations(trace, queues)).toEqual(['indexVideo is not in the catalogue']);
});

test('an activity on another queue, beyond its retry budget, or out of step order is reported', () => {
  const [first] = activitiesOfStep('analyze');
  const budget = maximumAttemptsOf(ACTIVITIES[first!].retry);
  const trace = everyStepOnce().map((t) => (t.activity === first ? { ...t, taskQueue: queues.media, attempt: budget + 1 } : t));
  expect(completedRunViolations(trace, queues)).toEqual([
    `${first} ran on ${queues.media}, the catalogue says ${queues.ai}`,
    `${first} took ${budget + 1} attempts, its preset ${ACTIVITIES[first!].retry} allows ${budget}`,
  ]);

  const transcodeLast = everyStepOnce().reverse();
  expect(completedRunViolations(transcodeLast, queues).some((p) => p.includes('was scheduled after step'))).toBe(true);
});
