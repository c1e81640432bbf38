import { AppError, temporalUnavailable, VideoUnreadableError } from '../../src/app/errors';
import { asDatabaseUnavailable } from '../../src/api/database-unavailable';
import { httpErrorOf } from '../../src/api/http-error';

describe("a service's AppError at the HTTP edge", () => {
  test.each([
    ['invalid', 400],
    ['forbidden', 403],
    ['not-found', 404],
    ['conflict', 409],
    ['gone', 410],
    ['too-large', 413],
    ['unsupported-type', 415],
    ['unprocessable', 422],
    ['unavailable', 503],
  ] as const)('%s answers %i with its type, video and hint in the one error shape', (kind, status) => {
    const http = httpErrorOf(new AppError(kind, 'SomeType', 'what happened', { videoId: 'v1', hint: 'what to do' }));
    expect(http.status).toBe(status);
    expect(http.toBody()).toEqual({ error: { type: 'SomeType', message: 'what happened', videoId: 'v1', hint: 'what to do' } });
    expect(http.opts.headers).toBeUndefined();
  });

  test('Temporal unreachable is 503 TemporalUnavailable with Retry-After', () => {
    const http = httpErrorOf(temporalUnavailable('no answer', { videoId: 'v1' }));
    expect(http.status).toBe(503);
    expect(http.type).toBe('TemporalUnavailable');
    expect(http.opts.headers).toEqual({ 'retry-after': '5' });
  });

  test('an unreadable video row becomes the 503 DatabaseUnavailable that carries the last known status', () => {
    const lastKnown = { videoId: 'v1', stale: true, asOf: '2026-12-06T08:00:00.000Z' } as never;
    const http = asDatabaseUnavailable(new VideoUnreadableError('down', 'v1', lastKnown));
    expect(http?.status).toBe(503);
    expect(http?.toBody()).toMatchObject({ error: { type: 'DatabaseUnavailable', videoId: 'v1' }, lastKnown: { stale: true } });
  });
});
