/**
 * The pipeline's catalogue, declared once: the steps people see, the task queue each runs on,
 * the activity types that make up each step with their retry preset, and the worker process
 * that serves each queue (its entry file, npm script and compose service). The workflows, the
 * status document, dead-letter replay, the CLI, the demo, the dashboard (through the API) and
 * the test harness read it; test/unit/catalogue.test.ts proves that package.json,
 * docker-compose.yml and the activity factories agree with it.
 *
 * Workflows run on `pipeline`; each activity step has its own queue and worker process, so a
 * saturated media worker never delays AI or index work, and a crashed activity worker never
 * strands workflow tasks on its sticky queue.
 *
 * Workflow-safe: no Node imports, no config.
 */
import type { RetryPresetName } from './retry-presets';

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
 * Segments of a segmented transcode run on their own queue next to `media`, served by a second
 * worker inside every media worker process with its own (small) slot count.
 */
export function segmentQueueOf(mediaQueue: string): string {
  return `${mediaQueue}-segments`;
}

/**
 * Where the retry of a lost media worker's attempt goes (src/workers/liveness.ts): every media
 * worker process polls it with one slot of its own, so the retry never waits behind queued work
 * (a video's other segments) for a busy worker to finish.
 */
export function rescueQueueOf(mediaQueue: string): string {
  return `${mediaQueue}-rescue`;
}

/** The process serving each queue: entry under dist/, npm script, docker-compose service. */
export const WORKERS: Readonly<Record<QueueRole, { readonly entry: string; readonly npmScript: string; readonly composeService: string }>> =
  {
    pipeline: { entry: 'workers/pipeline.js', npmScript: 'start:worker:pipeline', composeService: 'worker-pipeline' },
    media: { entry: 'workers/media.js', npmScript: 'start:worker:media', composeService: 'worker-media' },
    ai: { entry: 'workers/ai.js', npmScript: 'start:worker:ai', composeService: 'worker-ai' },
    index: { entry: 'workers/indexer.js', npmScript: 'start:worker:indexer', composeService: 'worker-indexer' },
  };

/** The steps of processVideo, in order, as people see them. */
export const STEPS = ['transcode', 'analyze', 'index'] as const;
export type StepName = (typeof STEPS)[number];

/** The queue whose workers do each step's work. */
export const STEP_QUEUE: Readonly<Record<StepName, QueueRole>> = { transcode: 'media', analyze: 'ai', index: 'index' };

export interface ActivitySpec {
  /** The step the activity belongs to; null for work outside the steps (failure path, deletion, reconciler). */
  readonly step: StepName | null;
  readonly queue: QueueRole;
  /** A sub-queue of the role (`<media>-segments`), served by the same worker process. */
  readonly lane?: 'segments';
  /** A local activity, run inside the workflow worker. */
  readonly local?: true;
  readonly retry: RetryPresetName;
}

export const ACTIVITIES = {
  // transcode: sign (uploads) → prepareMedia (plan → short: single pass → finishMedia) | segments ∥ audio → join → finishMedia
  signSourceUrl: { step: 'transcode', queue: 'pipeline', local: true, retry: 'localSigning' },
  prepareMedia: { step: 'transcode', queue: 'media', retry: 'mediaStep' },
  finishMedia: { step: 'transcode', queue: 'media', retry: 'mediaStep' },
  // the parts, each its own activity in runs recorded before the coarse-media patch:
  // plan → single pass | segments ∥ audio → join → HLS → analysis inputs → storyboard
  planTranscode: { step: 'transcode', queue: 'media', retry: 'mediaStep' },
  transcode: { step: 'transcode', queue: 'media', retry: 'mediaStep' },
  encodeSegment: { step: 'transcode', queue: 'media', lane: 'segments', retry: 'segment' },
  encodeAudio: { step: 'transcode', queue: 'media', retry: 'mediaStep' },
  joinSegments: { step: 'transcode', queue: 'media', retry: 'mediaStep' },
  discardSegments: { step: 'transcode', queue: 'media', retry: 'mediaStep' },
  packageHls: { step: 'transcode', queue: 'media', retry: 'mediaStep' },
  extractAnalysisInputs: { step: 'transcode', queue: 'media', retry: 'analysisInputs' },
  generateStoryboard: { step: 'transcode', queue: 'media', retry: 'storyboard' },
  // analyze: self-paced provider calls, or the metadata-only stand-in when it stays unavailable
  analyze: { step: 'analyze', queue: 'ai', retry: 'aiSelfPaced' },
  analyzeDegraded: { step: 'analyze', queue: 'ai', retry: 'aiStandIn' },
  // index: the saga (row → vector point → searchable; compensated when the vector write fails for good)
  writeIndexRow: { step: 'index', queue: 'index', retry: 'dbRidesOutage' },
  upsertVector: { step: 'index', queue: 'index', retry: 'vectorWriteFailsFast' },
  markSearchable: { step: 'index', queue: 'index', retry: 'dbRidesOutage' },
  compensateIndex: { step: 'index', queue: 'index', retry: 'dbRidesOutage' },
  // the failure path of processVideo: row failed + dead letter
  recordFailure: { step: null, queue: 'index', retry: 'recordFailure' },
  // deleteVideo
  tombstoneVideo: { step: null, queue: 'index', retry: 'cleanupPersistent' },
  cancelVideoRun: { step: null, queue: 'index', retry: 'cleanupPersistent' },
  removeVideoFiles: { step: null, queue: 'index', retry: 'cleanupPersistent' },
  removeVideoPoints: { step: null, queue: 'index', retry: 'cleanupPersistent' },
  purgeVideoRow: { step: null, queue: 'index', retry: 'cleanupPersistent' },
  // reconcileIndex
  reconcileRows: { step: null, queue: 'index', retry: 'reconcilePage' },
  listVectorSpaces: { step: null, queue: 'index', retry: 'reconcilePage' },
  reconcilePoints: { step: null, queue: 'index', retry: 'reconcilePage' },
  enforceRetention: { step: null, queue: 'index', retry: 'reconcilePage' },
  maintainVectorIndexes: { step: null, queue: 'index', retry: 'reconcilePage' },
  publishReconcileReport: { step: null, queue: 'index', retry: 'reconcilePage' },
} as const satisfies Record<string, ActivitySpec>;

export type ActivityName = keyof typeof ACTIVITIES;

const ACTIVITY_NAMES = Object.keys(ACTIVITIES) as ActivityName[];

/**
 * The activity types that make up a step (status, step inference, dead-letter attempt counts, and
 * the reset point of a dead-letter replay: the task that scheduled the first of them).
 */
export function activitiesOfStep(step: StepName): ActivityName[] {
  return ACTIVITY_NAMES.filter((name) => ACTIVITIES[name].step === step);
}

/** The step an activity type belongs to, if any. */
export function stepOfActivity(activityType: string): StepName | undefined {
  return (ACTIVITIES as Record<string, ActivitySpec>)[activityType]?.step ?? undefined;
}

/** Activities served by a queue role's worker process (local ones by the workflow worker). */
export function activitiesOfQueue(role: QueueRole): ActivityName[] {
  return ACTIVITY_NAMES.filter((name) => ACTIVITIES[name].queue === role);
}
