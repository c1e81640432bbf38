/**
 * Socket-level failure codes: the peer is down, restarting, or the network between us is. One
 * list for every "is the other side unreachable right now?" decision (the main database, the
 * object store).
 */
export const SOCKET_FAILURE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);
