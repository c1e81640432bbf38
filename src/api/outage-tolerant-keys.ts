import { hashKey, type ApiKeysRepo } from '../db/api-keys-repo';
import { isDatabaseUnavailable } from '../db/unavailable';

type KeyVerifier = Pick<ApiKeysRepo, 'verify'> & Partial<Pick<ApiKeysRepo, 'markUsed'>>;
type VerifiedKey = NonNullable<Awaited<ReturnType<ApiKeysRepo['verify']>>>;

/**
 * Key verification that survives a main-database outage for keys this process verified recently
 * (stale-if-error): without it every authenticated call fails at the key lookup, and GET
 * /videos/:id could never show its last known status. Only while the database is unreachable,
 * and only for `graceMs` after the key's last successful check here; a key the database says is
 * unknown or revoked is dropped at once. What such a caller can reach is small: every route but
 * the last-known status needs the database, so it answers 503 anyway. An unknown key during an
 * outage surfaces the database error (503 DatabaseUnavailable), never a 401 we cannot vouch for.
 */
export class OutageTolerantKeys implements KeyVerifier {
  private readonly verified = new Map<string, { key: VerifiedKey; at: number }>();

  constructor(
    private readonly keys: KeyVerifier,
    private readonly o: { graceMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  async verify(token: string): Promise<VerifiedKey | undefined> {
    const hash = hashKey(token);
    const now = (this.o.now ?? Date.now)();
    try {
      const key = await this.keys.verify(token);
      this.verified.delete(hash);
      if (key) this.remember(hash, key, now);
      return key;
    } catch (err) {
      const hit = this.verified.get(hash);
      if (isDatabaseUnavailable(err) && hit && now - hit.at <= (this.o.graceMs ?? 10 * 60_000)) return hit.key;
      throw err;
    }
  }

  /** Passed through: auth records a key's use (last_used_at) through whatever verifies it. */
  async markUsed(id: string): Promise<void> {
    await this.keys.markUsed?.(id);
  }

  private remember(hash: string, key: VerifiedKey, at: number): void {
    this.verified.set(hash, { key, at });
    if (this.verified.size > (this.o.maxEntries ?? 1_000)) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
  }
}
