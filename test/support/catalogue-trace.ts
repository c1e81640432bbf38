import {
  ACTIVITIES,
  segmentQueueOf,
  stepOfActivity,
  STEPS,
  type ActivityName,
  type ActivitySpec,
  type TaskQueues,
} from '../../src/pipeline/catalogue';
import { maximumAttemptsOf } from '../../src/pipeline/retry-presets';
import type { StepTrace } from '../../src/temporal/step-trace';

/**
 * What a run's history must agree with the catalogue on: every activity is a catalogued one,
 * scheduled on the queue (or lane) the catalogue gives it, within its preset's attempt budget,
 * and the steps follow each other in the catalogue's order. Returns the problems found (none = []).
 */
export function catalogueViolations(trace: StepTrace[], queues: TaskQueues): string[] {
  const problems: string[] = [];
  let lastStep = 0;
  for (const t of trace) {
    const spec = (ACTIVITIES as Record<string, ActivitySpec>)[t.activity];
    if (!spec) {
      problems.push(`${t.activity} is not in the catalogue`);
      continue;
    }
    const queue = spec.lane === 'segments' ? segmentQueueOf(queues[spec.queue]) : queues[spec.queue];
    if (t.taskQueue !== queue) problems.push(`${t.activity} ran on ${t.taskQueue}, the catalogue says ${queue}`);
    const budget = maximumAttemptsOf(spec.retry);
    if (t.attempt > budget) problems.push(`${t.activity} took ${t.attempt} attempts, its preset ${spec.retry} allows ${budget}`);
    if (spec.step) {
      const at = STEPS.indexOf(spec.step);
      if (at < lastStep) problems.push(`${t.activity} (${spec.step}) was scheduled after step ${STEPS[lastStep]}`);
      lastStep = Math.max(lastStep, at);
    }
  }
  return problems;
}

/** The activity types of a trace that belong to steps, in order, each once: a run that did every step once. */
export function stepActivities(trace: StepTrace[]): ActivityName[] {
  return trace.map((t) => t.activity).filter((a): a is ActivityName => (ACTIVITIES as Record<string, ActivitySpec>)[a]?.step != null);
}

/**
 * What a run that completed once must show on top of catalogueViolations: every step of the
 * catalogue did work, and no activity was scheduled twice — except the segment lane, whose one
 * activity type runs once per segment by design. The chaos tests (test/cluster/) assert only
 * this, so the step list they check is the catalogue's and test/unit/catalogue-trace.test.ts
 * proves the check in `npm test` without a cluster.
 */
export function completedRunViolations(trace: StepTrace[], queues: TaskQueues): string[] {
  const problems = catalogueViolations(trace, queues);
  const done = stepActivities(trace);
  const stepsDone = new Set(done.map(stepOfActivity));
  for (const step of STEPS) if (!stepsDone.has(step)) problems.push(`step ${step} ran no activity`);
  const seen = new Set<ActivityName>();
  for (const activity of done) {
    if (!('lane' in ACTIVITIES[activity]) && seen.has(activity)) problems.push(`${activity} was scheduled more than once`);
    seen.add(activity);
  }
  return problems;
}
