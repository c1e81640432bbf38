/**
 * The one place that decides whether a PostgreSQL error means "the database cannot be reached
 * right now" (retry later: 503 at the API, a retryable DatabaseUnavailable in workers) rather
 * than "this query is wrong" (a bug or a constraint: retrying cannot help).
 */
import { SOCKET_FAILURE_CODES } from '../net/socket-errors';

/**
 * SQLSTATEs the server sends while it cannot serve us: class 08 (connection exception),
 * 57P01..57P03 (shutting down, crashed, starting up), 53300 (too many connections).
 */
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[123]|53300)$/;

/**
 * node-postgres reports a lost or never-made connection as a plain Error with one of these
 * messages (no code): the pool's connect timeout, a server that hung up mid-query, a client
 * used after its connection broke.
 */
const DRIVER_MESSAGES = [
  /^Connection terminated/,
  /^timeout exceeded when trying to connect/,
  /^Client has encountered a connection error and is not queryable/,
  /^Client was closed and is not queryable/,
];

export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  // Duck-typed, not `instanceof Error`: errors made by Node's own sockets can come from another realm.
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const { code, message, errors, cause } = err as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (typeof code === 'string' && (SOCKET_FAILURE_CODES.has(code) || UNAVAILABLE_SQLSTATES.test(code))) return true;
  if (typeof message === 'string' && DRIVER_MESSAGES.some((m) => m.test(message))) return true;
  // Node 20 tries every address of "localhost" and reports all failures together (AggregateError).
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}

/** How long a client should wait before retrying a call that failed because the database is down. */
export const DATABASE_RETRY_AFTER_SEC = 5;
