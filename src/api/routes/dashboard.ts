import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

// Plain files, no build step: public/dashboard/ beside src/ and dist/ (like migrations/).
export const DASHBOARD_DIR = path.resolve(__dirname, '..', '..', '..', 'public', 'dashboard');

const FILES: Record<string, { file: () => string; type: string }> = {
  'index.html': { file: () => path.join(DASHBOARD_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  'app.js': { file: () => path.join(DASHBOARD_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  'captions.js': { file: () => path.join(DASHBOARD_DIR, 'captions.js'), type: 'text/javascript; charset=utf-8' },
  'style.css': { file: () => path.join(DASHBOARD_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  'search-moments.js': { file: () => path.join(DASHBOARD_DIR, 'search-moments.js'), type: 'text/javascript; charset=utf-8' },
  // Scrub previews over the seek bar, and the chapter list.
  'storyboard.js': { file: () => path.join(DASHBOARD_DIR, 'storyboard.js'), type: 'text/javascript; charset=utf-8' },
  'chapters.js': { file: () => path.join(DASHBOARD_DIR, 'chapters.js'), type: 'text/javascript; charset=utf-8' },
  'status-events.js': { file: () => path.join(DASHBOARD_DIR, 'status-events.js'), type: 'text/javascript; charset=utf-8' },
  // The HLS player, loaded only when a status links an HLS playlist and the browser has no native HLS
  // (Firefox, Chromium before 142; Debian's Chromium 156 and Safari play it natively).
  'vendor/hls.min.js': { file: () => require.resolve('hls.js/dist/hls.min.js'), type: 'text/javascript; charset=utf-8' },
};

/** The web dashboard at /dashboard/ (and / redirects there). A fixed list of files: no path from the URL reaches the disk. */
export function registerDashboardRoutes(app: FastifyInstance): void {
  // The page and its assets are public (they hold no data); every API call it makes sends the key.
  const pub = { config: { access: 'public' as const } };
  app.get('/', pub, async (_req, reply) => reply.redirect('/dashboard/'));
  app.get('/dashboard', pub, async (_req, reply) => reply.redirect('/dashboard/'));
  app.get<{ Params: { '*': string } }>('/dashboard/*', pub, async (req, reply) => {
    const entry = FILES[req.params['*'] || 'index.html'];
    if (!entry) return reply.callNotFound();
    const body = await readFile(entry.file());
    return reply.header('content-type', entry.type).header('cache-control', 'no-cache').send(body);
  });
}
