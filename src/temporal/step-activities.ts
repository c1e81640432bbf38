import type { PipelineStep } from '../workflows/contracts';

/**
 * The activity types that make up each pipeline step, for code that reads histories and
 * pending activities (status, attempts, stuck-step hints). Issue 17 split the index step into
 * a saga; runs recorded before it used the single `indexVideo` activity.
 */
export const STEP_ACTIVITY_TYPES: Partial<Record<PipelineStep, readonly string[]>> = {
  transcode: ['transcode'],
  analyze: ['analyze'],
  index: ['indexVideo', 'writeIndexRow', 'upsertVector', 'markSearchable'],
};

/** The step an activity type belongs to, if it is one of the steps' own activities. */
export function stepOfActivity(activityType: string): PipelineStep | undefined {
  for (const [step, types] of Object.entries(STEP_ACTIVITY_TYPES)) {
    if (types?.includes(activityType)) return step as PipelineStep;
  }
  return undefined;
}
