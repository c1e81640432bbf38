import type { Pool } from 'pg';
import type { WriteLock } from '../adapters/vector-store/port';

/**
 * A cross-process mutex per key: a PostgreSQL session advisory lock held on one pooled
 * connection for the length of `fn`. Every index worker shares the main database, so this
 * serialises LanceDB writes to one table across processes (LanceDB itself would let two
 * concurrent merge-inserts of a new id both insert). If the holder dies, PostgreSQL drops
 * its session and with it the lock — no stale lock files.
 */
export class PgAdvisoryLock implements WriteLock {
  constructor(private readonly pool: Pool) {}

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let release: Error | boolean | undefined;
    try {
      // hashtextextended gives a bigint key; the second namespace avoids other users' keys.
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 17))', [key]);
      try {
        return await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 17))', [key]).catch((err: Error) => {
          // A connection that cannot unlock must not go back to the pool holding the lock.
          release = err;
        });
      }
    } catch (err) {
      release = release ?? (err as Error);
      throw err;
    } finally {
      client.release(release instanceof Error ? release : undefined);
    }
  }
}
