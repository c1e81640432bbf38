/**
 * The soak's uploads as files: each planned clip generated with ffmpeg (lavfi sources, cached
 * between runs by shape and size), each poison made the way the hardening tests make it, and a
 * loopback HTTP server for the URL sources (the slow ones trickle, the expiring ones are signed
 * with an expiry and refused past it).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { BROKEN, cachedMedia, ffmpeg } from '../../test/support/media-corpus';
import { scaledClip } from './options';
import type { MediaShape, PoisonKind, UploadSpec } from './schedule';

const X264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1'];

/** ffmpeg arguments of one valid clip (output file last, added by the caller). */
function clipArgs(shape: MediaShape, seconds: number, height: number): string[] {
  const width = Math.round((height * 16) / 9 / 2) * 2;
  const src = (w: number, h: number, rate = 25) => ['-f', 'lavfi', '-i', `testsrc2=size=${w}x${h}:rate=${rate}:duration=${seconds}`];
  const tone = ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${seconds}`, '-c:a', 'aac', '-shortest'];
  switch (shape) {
    case 'plain':
    case 'rotated':
      return [...src(width, height), ...tone, ...X264];
    case 'vfr':
      return [...src(width, height, 30), ...tone, '-vf', "select='lt(mod(n\\,10)\\,4)'", '-fps_mode', 'vfr', ...X264];
    case 'interlaced':
      return [...src(width, height, 50), ...tone, '-vf', 'tinterlace=mode=interleave_top', ...X264, '-flags', '+ildct+ilme', '-top', '1'];
    case 'no-audio':
      return [...src(width, height), ...X264];
    case 'odd-size':
      return [...src(width + 1, height + 1), ...tone, ...X264, '-pix_fmt', 'yuv444p10le'];
  }
}

const POISON_MAKER: Record<PoisonKind, (file: string) => Promise<void>> = {
  truncated: BROKEN.find((b) => b.name === 'truncated')!.make,
  'not-a-video': BROKEN.find((b) => b.name === 'still-image')!.make,
  'audio-only': BROKEN.find((b) => b.name === 'audio-only')!.make,
  empty: (f) => writeFile(f, ''),
};

/** Makes the upload's file under `dir` (named by its id) and returns its name and the seconds it lasts (0 for poison). */
export async function makeInput(u: UploadSpec, dir: string, realMedia: boolean): Promise<{ file: string; durationSec: number }> {
  let cached: string;
  let durationSec = 0;
  if (u.media.kind === 'poison') {
    const { poison } = u.media;
    cached = await cachedMedia(`soak-poison-${poison}.mp4`, POISON_MAKER[poison]);
  } else {
    const { shape } = u.media;
    const clip = scaledClip(u.media, realMedia);
    durationSec = clip.durationSec;
    cached = await cachedMedia(`soak-${shape}-${clip.height}p-${clip.durationSec}s.mp4`, async (f) => {
      if (shape !== 'rotated') return ffmpeg([...clipArgs(shape, clip.durationSec, clip.height), '-f', 'mp4', f]);
      const plain = `${f}.plain.mp4`;
      await ffmpeg([...clipArgs('plain', clip.durationSec, clip.height), plain]);
      await ffmpeg(['-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', '-f', 'mp4', f]);
    });
  }
  // A copy per upload: retention may remove a consumed input, and names carry the id for tracing.
  const file = `${u.id}.mp4`;
  await copyFile(cached, path.join(dir, file));
  return { file, durationSec };
}

/** One answer of the source server to a signed (expiring) URL, for the driver's refresh log. */
export interface SignedFetch {
  /** The file the URL names (the upload's id + `.mp4`). */
  file: string;
  at: number;
  /** `expired`: answered 403 with the expiry body; `rejected`: a token that does not match; `served`: 200. */
  verdict: 'expired' | 'rejected' | 'served';
}

export interface SourceServer {
  url(file: string, slow: boolean): string;
  /**
   * A URL to `file` that the server honours until `expiresAtMs` (epoch ms) and refuses after it
   * the way an object store refuses an expired presigned URL: 403, an XML `AccessDenied` /
   * "Request has expired" body. The expiry and an HMAC of file and expiry are in the query.
   */
  signedUrl(file: string, expiresAtMs: number): string;
  /** Every answer to a signed URL, in arrival order. */
  readonly signedFetches: readonly SignedFetch[];
  close(): Promise<void>;
}

/** The body S3 and MinIO send with the 403 for a presigned URL past its expiry. */
function expiredBody(expiresAtMs: number, now: number): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Error><Code>AccessDenied</Code><Message>Request has expired</Message>',
    `<Expires>${new Date(expiresAtMs).toISOString()}</Expires><ServerTime>${new Date(now).toISOString()}</ServerTime>`,
    '</Error>',
  ].join('');
}

/**
 * Serves `dir` on loopback; `?slow=1` trickles 64 KiB every 100 ms (a slow origin, ~640 KiB/s).
 * A URL with `expires` and `sig` in its query is a signed one (see `signedUrl`): checked when the
 * request arrives, as a presigned URL is (a download that started in time runs to its end).
 */
export async function startSourceServer(dir: string): Promise<SourceServer> {
  // Per server: a URL signed by one run means nothing to another.
  const secret = randomBytes(16);
  const sign = (file: string, expiresAtMs: number) =>
    createHmac('sha256', secret).update(`${file}\n${expiresAtMs}`).digest('hex').slice(0, 32);
  const signedFetches: SignedFetch[] = [];
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const name = path.basename(decodeURIComponent(u.pathname));
    const file = path.join(dir, name);
    const expires = u.searchParams.get('expires');
    if (expires !== null) {
      const now = Date.now();
      const expiresAtMs = Number(expires);
      const sig = u.searchParams.get('sig') ?? '';
      const verdict = sig !== sign(name, expiresAtMs) ? 'rejected' : now >= expiresAtMs ? 'expired' : 'served';
      signedFetches.push({ file: name, at: now, verdict });
      if (verdict === 'rejected') {
        res
          .writeHead(403, { 'content-type': 'application/xml' })
          .end(
            '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error>',
          );
        return;
      }
      if (verdict === 'expired') {
        res.writeHead(403, { 'content-type': 'application/xml' }).end(expiredBody(expiresAtMs, now));
        return;
      }
    }
    stat(file).then(
      (st) => {
        res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(st.size) });
        if (req.method === 'HEAD') return res.end();
        const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
        if (u.searchParams.get('slow') !== '1') return void stream.pipe(res);
        stream.on('data', (chunk) => {
          stream.pause();
          res.write(chunk, () => setTimeout(() => stream.resume(), 100));
        });
        stream.on('end', () => res.end());
        res.on('close', () => stream.destroy());
      },
      () => {
        res.writeHead(404).end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const base = (file: string) => `http://127.0.0.1:${port}/${encodeURIComponent(file)}`;
  return {
    url: (file, slow) => `${base(file)}${slow ? '?slow=1' : ''}`,
    signedUrl: (file, expiresAtMs) => `${base(file)}?expires=${expiresAtMs}&sig=${sign(file, expiresAtMs)}`,
    signedFetches,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}
