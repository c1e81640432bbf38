import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ObjectStorage } from '../../adapters/storage/port';
import { HttpError } from '../http-error';

/**
 * How long a redirect to S3 stays usable. Short: the URL is a bearer credential for that one
 * object, and whoever holds it (a log line, a shared link, a browser cache) can read the object
 * without an API key until it expires. A player never needs long: it asks the API again for
 * every request (playlists name API routes, not store URLs), so each fetch gets a fresh URL and
 * a viewing of any length keeps working. 5 minutes covers a slow start of a large MP4 range.
 */
export const MEDIA_REDIRECT_TTL_SEC = 300;

/**
 * Sends a published object. On S3: a 302 to a presigned GET with a short TTL, so the media
 * bytes go from the store to the viewer and the API host needs neither a media disk nor the
 * bandwidth (S3 answers Range requests itself). On the local store (one machine): streamed from
 * the store with HTTP Range support (browsers seek in <video> with Range requests; without 206
 * answers Chromium cannot seek and some players refuse to play).
 */
export async function sendObject(
  req: FastifyRequest,
  reply: FastifyReply,
  storage: ObjectStorage,
  object: { key: string; contentType: string },
  videoId: string,
) {
  const info = await storage.head(object.key);
  if (!info) {
    throw new HttpError(404, 'MediaNotFound', `video ${videoId} has no such file (yet)`, {
      videoId,
      hint: 'Wait until the video is ready.',
    });
  }
  if (storage.backend === 's3') {
    const signed = await storage.presignGet(object.key, { expiresInSec: MEDIA_REDIRECT_TTL_SEC });
    // Not cached by the browser past its own life: a cached redirect would outlive the URL.
    return reply.header('cache-control', 'private, no-store').redirect(signed.url, 302);
  }
  const size = info.size;
  void reply.header('accept-ranges', 'bytes').header('content-type', object.contentType).header('cache-control', 'private, max-age=60');
  const range = req.headers.range;
  if (!range) {
    const whole = await storage.readObject(object.key);
    if (!whole) throw new HttpError(404, 'MediaNotFound', `video ${videoId} has no such file (yet)`, { videoId });
    void reply.header('content-length', String(whole.size));
    return reply.send(whole.body);
  }
  const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start = m?.[1] ? Number(m[1]) : NaN;
  let end = m?.[2] ? Number(m[2]) : size - 1;
  if (m && !m[1] && m[2]) {
    // suffix range: the last N bytes
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  }
  if (!m || Number.isNaN(start) || start >= size || end < start) {
    return reply.status(416).header('content-range', `bytes */${size}`).send();
  }
  end = Math.min(end, size - 1);
  const part = await storage.readObject(object.key, { start, end });
  if (!part) throw new HttpError(404, 'MediaNotFound', `video ${videoId} has no such file (yet)`, { videoId });
  void reply
    .status(206)
    .header('content-range', `bytes ${start}-${end}/${size}`)
    .header('content-length', String(end - start + 1));
  return reply.send(part.body);
}
