import type { FastifyInstance, FastifyRequest } from 'fastify';
import { defaultAccess, roleAllows, type Access, type Role } from '../auth/roles';
import type { ApiKeysRepo } from '../db/api-keys-repo';
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
  | { keys: Pick<ApiKeysRepo, 'verify'> }
  /** Only by explicit configuration (BIBLIO_AUTH=off): every caller is treated as an operator. */
  | { disabled: true };

/**
 * Bearer API keys on every route but health and signed transfers. Installed on the root
 * instance (not encapsulated), so routes registered later by other modules are covered too.
 */
export function installAuth(app: FastifyInstance, opts: AuthOptions): void {
  app.decorateRequest('apiKey', undefined);
  app.addHook('onRequest', async (req) => {
    const need = req.routeOptions.config?.access ?? defaultAccess(req.method, req.url);
    if (need === 'public') return;
    if ('disabled' in opts) {
      req.apiKey = { id: 'auth-disabled', role: 'operator' };
      return;
    }
    const token = bearer(req) ?? (req.routeOptions.config?.queryToken ? queryToken(req) : undefined);
    if (!token) {
      throw new HttpError(401, 'Unauthorized', 'this endpoint needs an API key', {
        hint: 'Send "Authorization: Bearer <key>"; create a key with `npm run keys -- create --role uploader`.',
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    const key = await opts.keys.verify(token);
    if (!key) {
      throw new HttpError(401, 'Unauthorized', 'the API key is unknown or revoked', {
        hint: 'Ask an operator for a new key (`npm run keys -- create`).',
        headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
      });
    }
    if (!roleAllows(key.role, need)) {
      throw new HttpError(403, 'Forbidden', `this action needs the ${need} role; the key ${key.id} has ${key.role}`, {
        hint: 'Use a key with the needed role.',
      });
    }
    req.apiKey = { id: key.id, role: key.role };
  });
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
