import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './http-error';

// C0 controls (NUL, ESC, …), DEL and C1 controls (CSI \u009b): none belongs in an id, a name, a
// path or a search, and each can end in SQL (NUL → PostgreSQL error → 500), a file path or a
// terminal (escape sequences printed raw by `keys list`).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

export function hasControlChars(s: string): boolean {
  return CONTROL.test(s);
}

/** Where in a parsed JSON value the first string (or key) with a control character is, if any. */
export function controlCharAt(value: unknown, at = 'body', depth = 0): string | undefined {
  if (typeof value === 'string') return hasControlChars(value) ? at : undefined;
  // Only parsed JSON: a transfer's raw bytes (Buffer, stream) are not text.
  if (!value || typeof value !== 'object' || depth > 32) return undefined;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (hasControlChars(k)) return at;
    const found = controlCharAt(v, Array.isArray(value) ? `${at}[${k}]` : `${at}.${k}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function refused(where: string): HttpError {
  return new HttpError(400, 'ValidationError', `${where} contains a control character (NUL, ESC, …)`, {
    hint: 'Send ids, names, paths and URLs as printable text.',
  });
}

/** The URL as it arrived, decoded: invalid percent-encoding (or invalid UTF-8 in it) is a bad request. */
function checkUrl(req: FastifyRequest): void {
  const raw = req.raw.url ?? '';
  const [pathPart = '', query = ''] = splitOnce(raw, '?');
  let decodedPath: string;
  let decodedQuery: string[];
  try {
    decodedPath = decodeURIComponent(pathPart);
    decodedQuery = query.split('&').map((p) => decodeURIComponent(p.replace(/\+/g, ' ')));
  } catch {
    throw new HttpError(400, 'MalformedUrl', 'the URL has invalid percent-encoding (or encodes invalid UTF-8)', {
      hint: 'Percent-encode the URL as UTF-8.',
    });
  }
  if (hasControlChars(decodedPath)) throw refused('the URL path');
  if (decodedQuery.some(hasControlChars)) throw refused('the query string');
}

function splitOnce(s: string, sep: string): [string, string?] {
  const i = s.indexOf(sep);
  return i < 0 ? [s] : [s.slice(0, i), s.slice(i + 1)];
}

/**
 * Refuses control characters with 400 in every string a request carries to a route — path,
 * query and JSON body — before auth or any route code sees them, so no route can forget it.
 * Installed on the root instance first.
 */
export function installInputHygiene(app: FastifyInstance): void {
  // JSON bodies must be valid UTF-8: the default parser would turn invalid bytes into U+FFFD and
  // store them (a key name, a path). Then fastify's own parser (proto-poisoning checks) runs.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body: Buffer, done) => {
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return done(new HttpError(400, 'MalformedBody', 'the JSON body is not valid UTF-8', { hint: 'Send UTF-8 JSON.' }), undefined);
    }
    parseJson(req, text, done);
  });
  app.addHook('onRequest', async (req) => checkUrl(req));
  app.addHook('preValidation', async (req) => {
    const at = controlCharAt(req.body);
    if (at) throw refused(at);
  });
}
