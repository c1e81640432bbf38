import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ROLES } from '../../auth/roles';
import type { ApiKeysRepo } from '../../db/api-keys-repo';
import type { ApiKeyRow } from '../../db/api-keys-repo';
import type { ApiKeyView, KeyCreatedResponse, KeyListResponse } from '../../contracts/http';
import { HttpError } from '../http-error';
import { describeIssues, noControlChars } from '../schemas';

// A name is printed by `keys list` and the dashboard: printable text only (no terminal escapes).
const createKeySchema = z
  .object({
    role: z.enum(ROLES),
    name: z.string().max(100).refine(noControlChars, 'name must not contain control characters').default(''),
  })
  .strict();
const keyIdSchema = z.string().regex(/^[0-9a-f]{12}$/, 'a key id is 12 hex digits (GET /keys lists them)');

/** Key admin over HTTP (operator-only; `npm run keys` does the same from a shell). The plaintext key is answered once. */
export function registerKeyRoutes(app: FastifyInstance, deps: { keys: ApiKeysRepo }): void {
  app.get('/keys', { config: { access: 'operator' } }, async (): Promise<KeyListResponse> => ({
    keys: (await deps.keys.list()).map(keyView),
  }));

  app.post('/keys', { config: { access: 'operator' } }, async (req, reply) => {
    const parsed = createKeySchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw new HttpError(400, 'ValidationError', describeIssues(parsed.error), {
        hint: `Body: {"role": "${ROLES.join('" | "')}", "name"?: "…"}`,
      });
    }
    const { key, row } = await deps.keys.create(parsed.data.role, parsed.data.name);
    const created: KeyCreatedResponse = { ...keyView(row), key };
    return reply.status(201).send(created);
  });

  app.delete<{ Params: { id: string } }>('/keys/:id', { config: { access: 'operator' } }, async (req, reply) => {
    const id = keyIdSchema.safeParse(req.params.id);
    if (!id.success) throw new HttpError(400, 'ValidationError', describeIssues(id.error));
    if (!(await deps.keys.revoke(id.data))) {
      throw new HttpError(404, 'KeyNotFound', `no live key ${req.params.id}`, { hint: 'GET /keys lists them.' });
    }
    return reply.status(204).send();
  });
}

function keyView(r: ApiKeyRow): ApiKeyView {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    createdAt: new Date(r.createdAt).toISOString(),
    revokedAt: iso(r.revokedAt),
    lastUsedAt: iso(r.lastUsedAt),
  };
}
