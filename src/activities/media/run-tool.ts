/**
 * How a media activity runs ffmpeg and ffprobe: through the one process runner (own process
 * group, parent-death signal, stall watchdog), with a stall turned into a typed, retryable
 * failure, while a heartbeat ticker tells Temporal the attempt is alive.
 */
import type { Context } from '@temporalio/activity';
import { ErrorType, failure } from '../../errors';
import { parseProgressLine } from '../../media/ffmpeg-args';
import { ProcessStalledError, runProcess, type RunOptions } from '../../media/run-process';
import type { HeartbeatProgress } from '../../workflows/contracts';

/**
 * For runs that report no progress (ffprobe, the interlace check, a thumbnail, a keyframe
 * sample): a plain time limit, far above their normal second or two.
 */
export const QUICK_TOOL_LIMIT: RunOptions['stall'] = { timeoutMs: 60_000, firstProgressMs: 60_000, progressOf: () => undefined };
/** How often the attempt tells Temporal it is alive (the heartbeat timeout catches a dead worker, the watchdog a stuck ffmpeg). */
export const HEARTBEAT_EVERY_MS = 1_000;
/** Default of MEDIA_STALL_TIMEOUT_MS when a test builds the activities without it. */
const DEFAULT_STALL_TIMEOUT_MS = 10_000;

/** The watchdog of a run that reports its position with `-progress` (an encode, a full pass). */
export function stallOf(deps: { stallTimeoutMs?: number }, progressOf: (line: string) => number | undefined = parseProgressLine) {
  return { timeoutMs: deps.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, progressOf } satisfies RunOptions['stall'];
}

/** Runs a tool under the stall watchdog; a stall becomes a typed, retryable TranscodeStalled. */
export async function runTool(cmd: string, args: string[], opts: RunOptions, what: string) {
  try {
    return await runProcess(cmd, args, opts);
  } catch (err) {
    if (err instanceof ProcessStalledError) {
      throw failure(ErrorType.TranscodeStalled, `${what}: ${err.message}; it was killed and the attempt will be retried`, {
        details: { stalledForMs: err.stalledForMs, lastPositionSec: err.lastPosition ?? null },
      });
    }
    throw err;
  }
}

/**
 * Progress heartbeats for one attempt: `beat` records and sends the latest progress, and a
 * ticker re-sends it every second — a long phase without progress lines (download start,
 * encoder look-ahead) must not look like a dead worker. Call `stop` in `finally`.
 */
export function startHeartbeats(ctx: Context, first: Omit<HeartbeatProgress, 'attempt'>) {
  const attempt = ctx.info.attempt;
  let current: HeartbeatProgress = { ...first, attempt };
  const beat = (p: Omit<HeartbeatProgress, 'attempt'>) => {
    current = { ...p, attempt };
    ctx.heartbeat(current);
  };
  const ticker = setInterval(() => ctx.heartbeat(current), HEARTBEAT_EVERY_MS);
  return { beat, stop: () => clearInterval(ticker) };
}
