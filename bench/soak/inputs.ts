/**
 * The soak's uploads as files: each planned clip generated with ffmpeg (lavfi sources, cached
 * between runs by shape and size), each poison made the way the hardening tests make it, and a
 * loopback HTTP server for the URL sources (the slow ones trickle).
 */
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

export interface SourceServer {
  url(file: string, slow: boolean): string;
  close(): Promise<void>;
}

/** Serves `dir` on loopback; `?slow=1` trickles 64 KiB every 100 ms (a slow origin, ~640 KiB/s). */
export async function startSourceServer(dir: string): Promise<SourceServer> {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const file = path.join(dir, path.basename(decodeURIComponent(u.pathname)));
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
  return {
    url: (file, slow) => `http://127.0.0.1:${port}/${encodeURIComponent(file)}${slow ? '?slow=1' : ''}`,
    close: async () => {
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}
