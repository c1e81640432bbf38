import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Response headers of every answer, by @fastify/helmet: a CSP the dashboard passes
 * (its script and styles are files of our own origin, no inline script or handler), nosniff, and
 * no framing by anyone (frame-ancestors 'none' and X-Frame-Options DENY for old browsers).
 * Media: the player reads same-origin MP4/HLS, and hls.js (when loaded) feeds the <video> through
 * MediaSource blob: URLs and may run its transmuxer in a blob: worker.
 */
// fastify-plugin: the headers apply to the whole app, not to an encapsulated child of it.
export const registerSecurityHeaders = fp(async (app: FastifyInstance): Promise<void> => {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        workerSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
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
