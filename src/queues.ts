/**
 * The task queues, named in one place so "what runs where" is answered by one file.
 * Workflows run on `pipeline`; each activity step has its own queue and worker process,
 * so a saturated media worker never delays AI or index work, and a crashed activity worker
 * never strands workflow tasks on its sticky queue.
 *
 * Workflow-safe: no Node imports.
 */
export interface TaskQueues {
  readonly pipeline: string;
  readonly media: string;
  readonly ai: string;
  readonly index: string;
}

export type QueueRole = keyof TaskQueues;

export const QUEUE_ROLES: readonly QueueRole[] = ['pipeline', 'media', 'ai', 'index'];

/** A prefix isolates deployments (and test files) that share one Temporal namespace. */
export function taskQueues(prefix = ''): TaskQueues {
  return {
    pipeline: `${prefix}pipeline`,
    media: `${prefix}media`,
    ai: `${prefix}ai`,
    index: `${prefix}index`,
  };
}

/**
 * Issue 15: segments of a segmented transcode run on their own queue next to `media`, served by
 * a second worker inside every media worker process with its own (small) slot count.
 */
export function segmentQueueOf(mediaQueue: string): string {
  return `${mediaQueue}-segments`;
}

/**
 * The activity types that make up each step, in one table (status, step inference and the
 * dead-letter attempt count read it). Issue 15: the media step of a long video is a segmented
 * transcode, so several activity types belong to it.
 */
export const STEP_ACTIVITY_TYPES: Readonly<Record<'transcode' | 'analyze' | 'index', readonly string[]>> = {
  transcode: ['transcode', 'planTranscode', 'encodeSegment', 'encodeAudio', 'joinSegments', 'discardSegments', 'packageHls'],
  analyze: ['analyze'],
  // Issue 17: the index saga; runs recorded before it used the single indexVideo.
  index: ['indexVideo', 'writeIndexRow', 'upsertVector', 'markSearchable'],
};

/** The step an activity type belongs to, if any. */
export function stepOfActivity(activityType: string): 'transcode' | 'analyze' | 'index' | undefined {
  for (const [step, types] of Object.entries(STEP_ACTIVITY_TYPES) as [keyof typeof STEP_ACTIVITY_TYPES, readonly string[]][]) {
    if (types.includes(activityType)) return step;
  }
  return undefined;
}
