import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../http-error';

/**
 * Streams a published file with HTTP Range support (browsers seek in <video> with Range
 * requests; without 206 answers Chromium cannot seek and some players refuse to play).
 */
export async function sendFile(req: FastifyRequest, reply: FastifyReply, file: string, contentType: string, videoId: string) {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    throw new HttpError(404, 'MediaNotFound', `video ${videoId} has no such file (yet)`, {
      videoId,
      hint: 'Wait until the video is ready.',
    });
  }
  const size = info.size;
  void reply.header('accept-ranges', 'bytes').header('content-type', contentType).header('cache-control', 'private, max-age=60');
  const range = req.headers.range;
  if (!range) {
    void reply.header('content-length', String(size));
    return reply.send(createReadStream(file));
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
  void reply
    .status(206)
    .header('content-range', `bytes ${start}-${end}/${size}`)
    .header('content-length', String(end - start + 1));
  return reply.send(createReadStream(file, { start, end }));
}
