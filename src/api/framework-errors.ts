import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-error';

/**
 * fastify's `frameworkErrors`: errors it answers before any route or hook runs. They echo the
 * caller's URL by default; here they get the one error shape and a fixed message.
 */
export function answerFrameworkError(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  const known: Record<string, [number, string, string]> = {
    FST_ERR_BAD_URL: [400, 'MalformedUrl', 'the URL is not valid (bad percent-encoding?)'],
    FST_ERR_MAX_PARAM_LENGTH: [414, 'UriTooLong', 'a path parameter is longer than any id this API uses'],
  };
  const [status, type, message] = known[err.code] ?? [500, 'InternalError', 'the server failed to route this request'];
  void reply.status(status).send(new HttpError(status, type, message, { hint: 'See docs/api.md.' }).toBody());
}

/**
 * fastify's `clientErrorHandler`: Node could not parse the request (e.g. a body longer than its
 * Content-Length leaves bytes that are no request). The socket is answered in the one error shape
 * and closed, as Node does.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, type, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'RequestTimeout', 'the request did not arrive in time']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'HeadersTooLarge', 'the request headers are too large']
        : [400, 'BadRequest', 'the request is not valid HTTP (is the body longer than its Content-Length?)'];
  const body = JSON.stringify(new HttpError(status, type, message, { hint: 'See docs/api.md.' }).toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
