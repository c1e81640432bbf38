import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ObjectStorage } from '../adapters/storage/port';

/**
 * Response headers of every answer, by @fastify/helmet: a CSP the dashboard passes
 * (its script and styles are files of our own origin, no inline script or handler), nosniff, and
 * no framing by anyone (frame-ancestors 'none' and X-Frame-Options DENY for old browsers).
 * Media: the player reads same-origin MP4/HLS, and hls.js (when loaded) feeds the <video> through
 * MediaSource blob: URLs and may run its transmuxer in a blob: worker. On S3 the media routes
 * redirect to presigned URLs of the store, so the store's origin is allowed for media, images and
 * fetches (hls.js) too — without it the dashboard could neither play nor show a thumbnail.
 */
// fastify-plugin: the headers apply to the whole app, not to an encapsulated child of it.
export const registerSecurityHeaders = fp(async (app: FastifyInstance, opts: { storage?: ObjectStorage }): Promise<void> => {
  const store = await storeOrigin(opts.storage);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:', ...store],
        // data: for hls.js's subtitle tracks: it gives each <track> it makes the src `data:,WEBVTT`
        // (and adds the cues itself); refused, the captions still show but every load logs a violation.
        mediaSrc: ["'self'", 'blob:', 'data:', ...store],
        workerSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'", ...store],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    // The API is reached by plain http on a LAN too: HSTS is the TLS proxy's job, not ours.
    strictTransportSecurity: false,
    // Media files and thumbnails are fetched by <video>/<img> of the same origin only.
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
});

/** The origin the store's presigned GETs point at (S3's, virtual-host or path style), if media redirects there. */
async function storeOrigin(storage: ObjectStorage | undefined): Promise<string[]> {
  if (storage?.backend !== 's3') return [];
  // Signing is local arithmetic: no request reaches the store.
  return [new URL((await storage.presignGet('media/csp-origin', { expiresInSec: 60 })).url).origin];
}
