import type { FastifyInstance, FastifyRequest } from 'fastify';
import { defaultAccess, roleAllows, type Access, type Role } from '../auth/roles';
import type { ApiKeysRepo } from '../db/api-keys-repo';
import { ErrorType } from '../errors';
import { AuthThrottle } from '../security/auth-throttle';
import { HttpError } from './http-error';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route; routes without it get `defaultAccess(method, url)`. */
    access?: Access;
    /**
     * Also accept the key as `?access_token=` (RFC 6750 §2.3): only for media files that a
     * `<video src>` must fetch without headers. Logs drop query strings.
     */
    queryToken?: boolean;
  }
  interface FastifyRequest {
    apiKey?: { id: string; role: Role };
  }
}

export type AuthOptions =
  | {
      keys: Pick<ApiKeysRepo, 'verify'> & Partial<Pick<ApiKeysRepo, 'markUsed'>>;
      /** Failed authentications per address (default: src/security/auth-throttle.ts's defaults). */
      throttle?: AuthThrottle;
    }
  /** Only by explicit configuration (BIBLIO_AUTH=off): every caller is treated as an operator. */
  | { disabled: true };

/**
 * Bearer API keys on every route but health and signed transfers. Installed on the root
 * instance (not encapsulated), so routes registered later by other modules are covered too.
 */
export function installAuth(app: FastifyInstance, opts: AuthOptions): void {
  app.decorateRequest('apiKey', undefined);
  const throttle = 'disabled' in opts ? undefined : (opts.throttle ?? new AuthThrottle());
  const markUsed = 'disabled' in opts ? undefined : usageRecorder(opts.keys, app);
  app.addHook('onRequest', async (req) => {
    const need = req.routeOptions.config?.access ?? defaultAccess(req.method, req.url);
    if (need === 'public') return;
    if ('disabled' in opts || !throttle) {
      req.apiKey = { id: 'auth-disabled', role: 'operator' };
      return;
    }
    // An address that keeps failing waits before any key of it is looked up again.
    const waitMs = throttle.blockedFor(req.ip);
    if (waitMs > 0) throw tooManyFailures(waitMs);
    const token = bearer(req) ?? (req.routeOptions.config?.queryToken ? queryToken(req) : undefined);
    // No key at all is no guess (and costs no lookup): a dashboard opened before its key is
    // pasted must not lock its address out. Only keys that fail to verify count.
    if (!token) {
      throw new HttpError(401, 'Unauthorized', 'this endpoint needs an API key', {
        hint: 'Send "Authorization: Bearer <key>"; create a key with `npm run keys -- create --role uploader`.',
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    const key = await opts.keys.verify(token);
    if (!key) {
      throttle.fail(req.ip);
      throw new HttpError(401, 'Unauthorized', 'the API key is unknown or revoked', {
        hint: 'Ask an operator for a new key (`npm run keys -- create`).',
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      });
    }
    markUsed?.(key.id);
    if (!roleAllows(key.role, need)) {
      throw new HttpError(403, 'Forbidden', `this action needs the ${need} role; the key ${key.id} has ${key.role}`, {
        hint: 'Use a key with the needed role.',
      });
    }
    req.apiKey = { id: key.id, role: key.role };
  });
}

function tooManyFailures(waitMs: number): HttpError {
  const retryAfterSec = Math.max(1, Math.ceil(waitMs / 1000));
  return new HttpError(429, ErrorType.RateLimited, 'too many failed authentications from this address', {
    hint: `Check the API key; retry after ${retryAfterSec} s (Retry-After). Each further failure doubles the wait.`,
    headers: { 'retry-after': String(retryAfterSec) },
  });
}

/** `last_used_at`, at most one write per key and minute from this process, never on the request's path. */
function usageRecorder(keys: Partial<Pick<ApiKeysRepo, 'markUsed'>>, app: FastifyInstance): ((id: string) => void) | undefined {
  if (!keys.markUsed) return undefined;
  const markUsed = keys.markUsed.bind(keys);
  const lastMarked = new Map<string, number>();
  return (id) => {
    const now = Date.now();
    if (now - (lastMarked.get(id) ?? 0) < 60_000) return;
    lastMarked.set(id, now);
    markUsed(id).catch((err: Error) => app.log.warn({ err: err.message, keyId: id }, 'could not record the key use'));
  };
}

function queryToken(req: FastifyRequest): string | undefined {
  const q = req.query as Record<string, unknown> | undefined;
  return typeof q?.access_token === 'string' && q.access_token.length > 0 ? q.access_token : undefined;
}

function bearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
