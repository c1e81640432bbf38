import type { Logger } from 'pino';
import type { PendingStart, StartOutboxRepo } from '../db/start-outbox-repo';

export interface OutboxSweeper {
  /** One pass; resolves with the ids it started. */
  sweepOnce(): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Starts uploads whose POST was answered 503 (Temporal was down) once Temporal is back, so the
 * client does not have to retry. Runs in every API process; rows are claimed with SKIP LOCKED
 * and the start is idempotent per workflow id, so each upload gets exactly one run.
 */
export function startOutboxSweeper(o: {
  outbox: StartOutboxRepo;
  start: (row: PendingStart) => Promise<void>;
  intervalMs: number;
  /** Rows younger than this belong to a POST still in flight. */
  minAgeMs?: number;
  batch?: number;
  log?: Logger;
  onStarted?: (ids: string[]) => void;
}): OutboxSweeper {
  const repo = o.outbox;
  let running: Promise<string[]> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const sweepOnce = (): Promise<string[]> => {
    running ??= repo
      .sweep({ minAgeMs: o.minAgeMs ?? 2_000, limit: o.batch ?? 50 }, o.start)
      .then(({ started, failed }) => {
        if (started.length) {
          o.log?.info({ videoIds: started, outbox: 'started' }, `outbox: started ${started.length} pending upload(s)`);
          o.onStarted?.(started);
        }
        if (failed) o.log?.warn({ outbox: 'deferred' }, 'outbox: Temporal still unavailable, will retry');
        return started;
      })
      .catch((err: Error) => {
        o.log?.warn({ failure: { type: err.name, message: err.message } }, 'outbox sweep failed');
        return [];
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  const schedule = () => {
    if (stopped || o.intervalMs <= 0) return;
    timer = setTimeout(() => {
      void sweepOnce().finally(schedule);
    }, o.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    sweepOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
