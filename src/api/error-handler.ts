import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../app/errors';
import { asDatabaseUnavailable } from './database-unavailable';
import { asStorageUnavailable } from './storage-unavailable';
import { HttpError, httpErrorOf, typeForStatus } from './http-error';

/**
 * The app's error handler: every error a route or service throws leaves in the one error shape.
 * Services throw AppErrors (src/app/errors.ts): their HTTP status is decided here, once.
 */
export function answerError(raw: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  // A database or object store outage (also in the auth key lookup) is a typed 503, not a 500.
  const typed = asStorageUnavailable(raw) ?? asDatabaseUnavailable(raw) ?? raw;
  const err = typed instanceof AppError ? httpErrorOf(typed) : typed;
  if (err instanceof HttpError) {
    if (err.opts.headers) void reply.headers(err.opts.headers);
    return reply.status(err.status).send(err.toBody());
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) req.log.error({ err }, 'unhandled error');
  const body = new HttpError(
    status,
    typeForStatus(status),
    // Never a stack trace; for 500s not even the message, which may carry internals.
    status === 500 ? 'the server failed to handle this request' : err.message,
    { hint: status === 500 ? 'Retry; if it persists, check the API logs.' : 'See docs/api.md.' },
  ).toBody();
  return reply.status(status).send(body);
}
