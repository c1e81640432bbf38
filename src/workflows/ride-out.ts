/**
 * A media activity whose three attempts were used up by the machine, not by the media: a full
 * work disk or an unreachable object store. Each such attempt already waits its typed pause
 * (DiskFull 30 s then 60 s, StorageUnavailable 15 s then 30 s), so the three attempts cover only
 * a minute or two: an S3 outage of five minutes, or two disk-full spells and a lost worker in a
 * row (the long soak), dead-lettered valid uploads. The workflow schedules the activity again,
 * with a fresh attempt budget, a bounded number of times; any other failure ends it as before.
 *
 * Behind `patched('infra-ride-out')`: consulted only when such a failure ends the activity, so a
 * run recorded before it replays its failure path unchanged.
 *
 * Deterministic: no I/O, clock or config.
 */
import { log, patched, sleep } from '@temporalio/workflow';
import { ErrorType, type ErrorTypeName } from '../errors';
import { failureOf } from './decisions';

export const INFRA_RIDE_OUT_PATCH = 'infra-ride-out';

/** Failures that say the worker's machine or the store is not fit right now, never that the media is bad. */
export const RIDE_OUT_TYPES: readonly ErrorTypeName[] = [ErrorType.DiskFull, ErrorType.StorageUnavailable];

/**
 * Fresh attempt budgets after the first: with the typed pauses inside each, about 10 minutes of a
 * full disk and 5 of an unreachable store. Past that the video is dead-lettered with the type,
 * for an operator to replay once the disk or the store is back.
 */
export const MAX_RIDE_OUTS = 6;

/** Between two budgets; the attempts inside pace themselves by their typed pauses. */
export const RIDE_OUT_PAUSE_MS = 5_000;

/** `fn`, scheduled again (up to MAX_RIDE_OUTS times) when its attempts ended on a RIDE_OUT_TYPES failure. */
export function ridingOut<A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A): Promise<R> => {
    for (let round = 0; ; round++) {
      try {
        return await fn(...args);
      } catch (err) {
        const type = failureOf(err)?.type;
        if (!type || !RIDE_OUT_TYPES.includes(type as ErrorTypeName) || round >= MAX_RIDE_OUTS || !patched(INFRA_RIDE_OUT_PATCH)) throw err;
        log.warn('a media activity used its attempts on a full disk or an unreachable store; scheduling it again', {
          activity: name,
          type,
          round: round + 1,
          of: MAX_RIDE_OUTS,
        });
        await sleep(RIDE_OUT_PAUSE_MS);
      }
    }
  };
}
