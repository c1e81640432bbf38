import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;

export type QueueKind = 'workflow' | 'activity';

/** One task queue as Temporal's matching service sees it (DescribeTaskQueue with reportStats). */
export interface QueueStats {
  queue: string;
  kind: QueueKind;
  /** Tasks waiting for a worker. Sync-matched tasks never enter the backlog: ≈0 while workers keep up. */
  backlogCount: number;
  /** Age of the oldest waiting task: the consumer lag. */
  backlogAgeMs: number;
  /** Tasks per second added to / handed out from the queue (approximate). */
  addRate: number;
  dispatchRate: number;
  /** Pollers the server has seen at all (it remembers them for minutes after they stop). */
  pollersSeen: number;
  /** Pollers seen within `freshPollerMs`: the ones that are very likely still alive. */
  pollersRecent: number;
  /** How long ago the most recent poll was (null when no poller was ever seen). */
  lastPollAgoMs: number | null;
}

/**
 * A live, idle worker re-polls at least every ~70 s (the long poll lasts up to 60 s); a worker
 * with every slot busy does not poll at all. So "no poll for 75 s" means every worker of the
 * queue is gone or saturated — in both cases the task waits, and saying so beats waiting for
 * the server's 5-minute poller history to expire.
 */
export const DEFAULT_FRESH_POLLER_MS = 75_000;

export async function describeQueue(
  client: Client,
  queue: string,
  kind: QueueKind,
  opts: { deadlineMs?: number; freshPollerMs?: number } = {},
): Promise<QueueStats> {
  const res = await client.connection.withDeadline(Date.now() + (opts.deadlineMs ?? 2_000), () =>
    client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: queue },
      taskQueueType: kind === 'workflow' ? TASK_QUEUE_TYPE_WORKFLOW : TASK_QUEUE_TYPE_ACTIVITY,
      reportStats: true,
    }),
  );
  const now = Date.now();
  const fresh = opts.freshPollerMs ?? DEFAULT_FRESH_POLLER_MS;
  const pollAges = (res.pollers ?? []).map((p) => {
    const at = optionalTsToMs(p.lastAccessTime);
    return at === undefined ? Number.POSITIVE_INFINITY : Math.max(0, now - at);
  });
  const stats = res.stats;
  const count = stats?.approximateBacklogCount;
  return {
    queue,
    kind,
    backlogCount: typeof count === 'number' ? count : (count?.toNumber() ?? 0),
    backlogAgeMs: optionalTsToMs(stats?.approximateBacklogAge) ?? 0,
    addRate: stats?.tasksAddRate ?? 0,
    dispatchRate: stats?.tasksDispatchRate ?? 0,
    pollersSeen: pollAges.length,
    pollersRecent: pollAges.filter((a) => a <= fresh).length,
    lastPollAgoMs: pollAges.length ? Math.min(...pollAges) : null,
  };
}

/**
 * Describes queues at most once per `ttlMs` each, with one request in flight per queue: a flood
 * of API requests must not turn into a flood of DescribeTaskQueue calls against Temporal.
 */
export class QueueStatsCache {
  private readonly entries = new Map<string, { at: number; value?: QueueStats; pending?: Promise<QueueStats> }>();

  constructor(
    private readonly client: Client,
    private readonly ttlMs = 1_000,
    private readonly opts: { deadlineMs?: number; freshPollerMs?: number } = {},
  ) {}

  get(queue: string, kind: QueueKind): Promise<QueueStats> {
    const key = `${kind}:${queue}`;
    const entry = this.entries.get(key);
    if (entry?.value && Date.now() - entry.at < this.ttlMs) return Promise.resolve(entry.value);
    if (entry?.pending) return entry.pending;
    const pending = describeQueue(this.client, queue, kind, this.opts).then(
      (value) => {
        this.entries.set(key, { at: Date.now(), value });
        return value;
      },
      (err: unknown) => {
        // Keep the last value for a later success; a failure is not cached (the caller decides).
        const prev = this.entries.get(key);
        this.entries.set(key, { at: prev?.at ?? 0, value: prev?.value });
        throw err;
      },
    );
    this.entries.set(key, { at: entry?.at ?? 0, value: entry?.value, pending });
    return pending;
  }
}
