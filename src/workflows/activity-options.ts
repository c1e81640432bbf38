import {
  ActivityCancellationType,
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
} from '@temporalio/workflow';
import { ACTIVITIES, segmentQueueOf, type ActivityName, type ActivitySpec, type TaskQueues } from '../pipeline/catalogue';
import { DEFAULT_MEDIA_HEARTBEAT_TIMEOUT_MS, LOCAL_PRESETS, RETRY_PRESETS } from '../pipeline/retry-presets';
import { ridingOut } from './ride-out';

/** What the starter tunes per deployment (workflow code may not read config). */
export interface ActivityTuning {
  mediaHeartbeatTimeoutMs?: number;
}

/**
 * The options of one activity as the catalogue declares them: its queue (or lane) and its named
 * retry preset. Media work is cancelled with WAIT_CANCELLATION_COMPLETED: a cancelled run
 * (DELETE, an operator) closes only once its ffmpeg has stopped, so nothing outlives the run.
 */
export function optionsFor(name: ActivityName, queues: TaskQueues, tuning: ActivityTuning = {}): ActivityOptions {
  const spec: ActivitySpec = ACTIVITIES[name];
  const preset = spec.retry;
  if (preset in LOCAL_PRESETS) throw new Error(`${name} is a local activity: use localActivity()`);
  const base = RETRY_PRESETS[preset as keyof typeof RETRY_PRESETS](tuning.mediaHeartbeatTimeoutMs ?? DEFAULT_MEDIA_HEARTBEAT_TIMEOUT_MS);
  const queue = queues[spec.queue];
  return {
    ...base,
    taskQueue: spec.lane === 'segments' ? segmentQueueOf(queue) : queue,
    ...(spec.queue === 'media' ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED } : {}),
  };
}

/**
 * Media work that a full disk or an unreachable store failed is scheduled again (src/workflows/ride-out.ts);
 * the storyboard is a nicety the video goes on without.
 */
function ridesOutInfra(name: ActivityName): boolean {
  const spec: ActivitySpec = ACTIVITIES[name];
  return spec.queue === 'media' && spec.retry !== 'storyboard';
}

/** One activity of interface `A`, proxied with its catalogue options. */
export function activity<A, K extends keyof A & ActivityName>(
  name: K,
  queues: TaskQueues,
  tuning?: ActivityTuning,
): ActivityInterfaceFor<A>[K] {
  const fn = proxyActivities<A>(optionsFor(name, queues, tuning))[name];
  if (!ridesOutInfra(name)) return fn;
  return ridingOut(name, fn as (...args: unknown[]) => Promise<unknown>) as ActivityInterfaceFor<A>[K];
}

/** One local activity (run inside the workflow worker), proxied with its catalogue preset. */
export function localActivity<A, K extends keyof A & ActivityName>(name: K): ActivityInterfaceFor<A>[K] {
  const preset = ACTIVITIES[name].retry;
  if (!(preset in LOCAL_PRESETS)) throw new Error(`${name} is not a local activity`);
  return proxyLocalActivities<A>(LOCAL_PRESETS[preset as keyof typeof LOCAL_PRESETS]())[name] as ActivityInterfaceFor<A>[K];
}
