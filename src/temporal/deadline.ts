import type { Client, Connection } from '@temporalio/client';

/**
 * What the API promises (docs/api.md): a route that needs Temporal answers within ~5 s,
 * with 503 TemporalUnavailable when Temporal does not answer. Without a deadline the SDK's gRPC
 * channel keeps retrying an unreachable server for ~20 s.
 */
export const TEMPORAL_ANSWER_MS = 5_000;

/**
 * The gRPC deadline behind that promise: with the server down the SDK answers 1–1.5 s after its
 * deadline, and POST /videos first waits up to ADMISSION_WAIT_MS (0.5 s) for its admission
 * measurement. Measured with 4 s (test/integration/temporal-deadline.test.ts, 2 loaded cores):
 * DELETE 5.4 s, replay 5.6 s, refresh-url 5.8 s, POST /videos 6.2 s (with 5 s: 5.5–7.0 s).
 */
export const TEMPORAL_DEADLINE_MS = 4_000;

/** Seconds a client should wait before retrying a request refused because Temporal was unreachable. */
export const TEMPORAL_RETRY_AFTER_SEC = 5;

/** The absolute deadline `ms` from now: start the clock once and pass it to every call of one request. */
export function temporalDeadlineIn(ms: number = TEMPORAL_DEADLINE_MS): number {
  return Date.now() + ms;
}

/**
 * Runs every Temporal call `fn` makes under one absolute deadline (the SDK applies it to each
 * call started inside `fn`), so a request making several calls still answers in time. The one
 * place this process bounds a Temporal call: without it gRPC retries an unreachable server ~20 s.
 */
export function withTemporalDeadline<T>(
  temporal: Pick<Client, 'connection'> | Pick<Connection, 'withDeadline'>,
  fn: () => Promise<T>,
  deadlineAt = temporalDeadlineIn(),
): Promise<T> {
  const connection = 'connection' in temporal ? temporal.connection : temporal;
  return connection.withDeadline(deadlineAt, fn);
}

/** gRPC UNAVAILABLE (server down, connection refused) or DEADLINE_EXCEEDED (our deadline), anywhere in the cause chain. */
export function isTemporalUnreachable(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const code = (err as { code?: unknown }).code;
  if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED) return true;
  return isTemporalUnreachable((err as { cause?: unknown }).cause, depth + 1);
}
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
