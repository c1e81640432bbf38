import type { Pool } from 'pg';
import type { WriteLock } from '../adapters/vector-store/port';

/** The lock's session ended while the critical section ran: exclusion was not guaranteed. */
export class LockLostError extends Error {
  constructor(key: string, cause: Error) {
    super(
      `advisory lock ${JSON.stringify(key)} was lost while held (${cause.message}); the guarded work may have overlapped another holder`,
    );
    this.name = 'LockLostError';
  }
}

/**
 * A cross-process mutex per key: a PostgreSQL session advisory lock held on one pooled
 * connection for the length of `fn`. Every index worker shares the main database, so this
 * serialises LanceDB writes to one table across processes (LanceDB itself would let two
 * concurrent merge-inserts of a new id both insert). If the holder dies, PostgreSQL drops
 * its session and with it the lock — no stale lock files (test/integration/advisory-lock.test.ts).
 */
export class PgAdvisoryLock implements WriteLock {
  constructor(private readonly pool: Pool) {}

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client's errors reach no pool listener: if the server ends this session
    // while fn runs (restart, failover, pg_terminate_backend), the 'error' event would be
    // unhandled and crash the worker. Record it instead.
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost = err;
    };
    client.on('error', onError);
    let release: Error | undefined;
    try {
      // hashtextextended gives a bigint key; the second namespace avoids other users' keys.
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 17))', [key]);
      let result: T;
      try {
        result = await fn();
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 17))', [key]).catch((err: Error) => {
          // A connection that cannot unlock must not go back to the pool holding the lock.
          release = err;
        });
      }
      // The work itself succeeded, but another process may have held the lock meanwhile:
      // fail so the caller retries (every guarded write is an idempotent upsert or delete).
      if (lost) throw new LockLostError(key, lost);
      return result;
    } catch (err) {
      release = release ?? lost ?? (err as Error);
      throw err;
    } finally {
      client.off('error', onError);
      client.release(release ?? lost);
    }
  }
}
