import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { Role } from '../auth/roles';

export interface ApiKeyRow {
  id: string;
  name: string;
  role: Role;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const COLUMNS = `id, name, role, created_at AS "createdAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`;

/** Keys look like `bib_<id>_<secret>`: the id makes a key findable in logs and the CLI without the secret. */
export function hashKey(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class ApiKeysRepo {
  constructor(private readonly pool: Pool) {}

  /** Returns the only copy of the plaintext key: it is not stored. */
  async create(role: Role, name = ''): Promise<{ key: string; row: ApiKeyRow }> {
    const id = randomBytes(6).toString('hex');
    const key = `bib_${id}_${randomBytes(32).toString('base64url')}`;
    const { rows } = await this.pool.query<ApiKeyRow>(
      `INSERT INTO api_keys (id, name, role, key_hash) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [id, name, role, hashKey(key)],
    );
    return { key, row: rows[0] as ApiKeyRow };
  }

  async list(): Promise<ApiKeyRow[]> {
    const { rows } = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at`);
    return rows;
  }

  /** True when a live key was revoked now. */
  async revoke(id: string): Promise<boolean> {
    const res = await this.pool.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
    return (res.rowCount ?? 0) > 0;
  }

  /**
   * Records that a key was used. Cheap by construction: the row is written at most once a minute
   * (the WHERE skips fresher rows, so concurrent requests and replicas do not pile up writes);
   * callers also skip the call within a minute of their last one.
   */
  async markUsed(id: string): Promise<void> {
    await this.pool.query(
      `UPDATE api_keys SET last_used_at = now() WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`,
      [id],
    );
  }

  /** The live key matching this token, if any (lookup by hash: no timing oracle on the secret). */
  async verify(token: string): Promise<ApiKeyRow | undefined> {
    if (!/^bib_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const { rows } = await this.pool.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, [
      hashKey(token),
    ]);
    return rows[0];
  }
}
