import { createHash } from 'node:crypto';
import type { VideoSource } from '../workflows/contracts';

/** A URL without user info, query or fragment: what may appear in logs, errors, the DB and status. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.search ? `${u.origin}${u.pathname}?…` : `${u.origin}${u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}

/**
 * What the main DB keeps of a source: a URL's secrets (user:pass@, query tokens) are replaced by a
 * fingerprint, which still tells "same source again" (200) from "another source" (409); an
 * upload's signed URL is never stored.
 */
export function storedSource(source: VideoSource): VideoSource & { fingerprint?: string } {
  if (source.kind === 'url') {
    return { kind: 'url', url: redactUrl(source.url), fingerprint: createHash('sha256').update(source.url).digest('base64url') };
  }
  if (source.kind === 'upload') return { kind: 'upload', key: source.key };
  return source;
}
