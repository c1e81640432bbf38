import type { AppErrorKind, AppError } from '../app/errors';
import type { ErrorBody } from '../contracts/http';

/** The one error body every endpoint answers with: { error: { type, message, videoId, hint } }. */
export type { ErrorBody };

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** Messages may echo what a caller sent (a URL, a JSON snippet): no control character or megabyte reaches a terminal. */
function printable(text: string, max = 500): string {
  const clean = text.replace(CONTROL, '\uFFFD');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly opts: { videoId?: string; hint?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return {
      error: {
        type: this.type,
        message: printable(this.message),
        videoId: this.opts.videoId ?? null,
        hint: this.opts.hint === undefined ? null : printable(this.opts.hint),
      },
    };
  }
}

/** The error type of a framework-made 4xx (fastify's own errors carry only a status and a code). */
const STATUS_TYPES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  408: 'RequestTimeout',
  411: 'LengthRequired',
  413: 'PayloadTooLarge',
  414: 'UriTooLong',
  415: 'UnsupportedMediaType',
  416: 'RangeNotSatisfiable',
  429: 'RateLimited',
  431: 'HeadersTooLarge',
};

export function typeForStatus(status: number): string {
  return STATUS_TYPES[status] ?? (status >= 500 ? 'InternalError' : 'BadRequest');
}

/** The one place a service's refusal (src/app/errors.ts) becomes an HTTP status. */
const STATUS_OF_KIND: Record<AppErrorKind, number> = {
  invalid: 400,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  gone: 410,
  'too-large': 413,
  'unsupported-type': 415,
  unprocessable: 422,
  unavailable: 503,
};

/** A service's AppError in the one error shape, Retry-After included when it says when to retry. */
export function httpErrorOf(err: AppError): HttpError {
  const { videoId, hint, retryAfterSec } = err.opts;
  return new HttpError(STATUS_OF_KIND[err.kind], err.type, err.message, {
    videoId,
    hint,
    ...(retryAfterSec !== undefined ? { headers: { 'retry-after': String(retryAfterSec) } } : {}),
  });
}
