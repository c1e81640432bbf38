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

/** What the main DB keeps of a source: `fingerprint` tells "same source again" (200) from "another" (409). */
export type StoredSource = VideoSource & { fingerprint?: string };

/**
 * What the main DB keeps of a source: a URL's secrets (user:pass@, query tokens) are replaced by a
 * fingerprint, which still tells "same source again" (200) from "another source" (409), and its
 * sealed form (only the media worker opens it) is kept so the start outbox can start it later; an
 * upload's signed URL is never stored. Idempotent: a stored source stores as itself.
 */
export function storedSource(source: StoredSource): StoredSource {
  if (source.kind === 'url') {
    const fingerprint = source.sealed ? source.fingerprint : createHash('sha256').update(source.url).digest('base64url');
    return {
      kind: 'url',
      url: redactUrl(source.url),
      ...(source.sealed ? { sealed: source.sealed } : {}),
      ...(fingerprint ? { fingerprint } : {}),
    };
  }
  if (source.kind === 'upload') return { kind: 'upload', key: source.key };
  return source;
}

/** Same source, whatever the random IV of its sealed form. */
export function sameStoredSource(a: StoredSource, b: StoredSource): boolean {
  const strip = (s: StoredSource) => (s.kind === 'url' ? { kind: s.kind, url: s.url, fingerprint: s.fingerprint } : s);
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** What a workflow input carries of a stored source: no fingerprint. */
export function workflowSource(source: StoredSource): VideoSource {
  if (source.kind !== 'url')
    return source.kind === 'upload' ? { kind: 'upload', key: source.key, ...(source.url ? { url: source.url } : {}) } : source;
  return source.sealed ? { kind: 'url', url: source.url, sealed: source.sealed } : { kind: 'url', url: source.url };
}

// A URL in free text: scheme://, then anything up to white space or a quote, less trailing punctuation.
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*[^\s"'<>.,;:!?)\]]/gi;

/** Free text (an error message) with every URL in it redacted: no credentials or query strings. */
export function scrubUrls(text: string): string {
  return text.replace(URL_IN_TEXT, (u) => redactUrl(u));
}
