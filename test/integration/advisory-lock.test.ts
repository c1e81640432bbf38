import { createPool } from '../../src/db/database';
import { LockLostError, PgAdvisoryLock } from '../../src/db/advisory-lock';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The cross-process mutex the LanceDB writes rely on, on a real PostgreSQL. Two pools stand
// for two index worker processes: each has its own sessions, as separate processes would.
let db: TestDatabase;
const pools: ReturnType<typeof createPool>[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  pools.push(createPool(db.url, 4), createPool(db.url, 4));
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await db?.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('holders of the same key never overlap across pools; different keys do', async () => {
  const [a, b] = pools.map((p) => new PgAdvisoryLock(p!));
  let active = 0;
  let maxActive = 0;
  const critical = async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    await sleep(20);
    active--;
  };
  await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a! : b!).withLock('lancedb:same', critical)));
  expect(maxActive).toBe(1);

  // Different keys: both critical sections are inside at once.
  let inside = 0;
  let both = false;
  const meet = async () => {
    inside++;
    for (let i = 0; i < 50 && inside < 2; i++) await sleep(10);
    both ||= inside === 2;
    await sleep(10);
    inside--;
  };
  await Promise.all([a!.withLock('lancedb:one', meet), b!.withLock('lancedb:two', meet)]);
  expect(both).toBe(true);
});

test('a failing critical section releases the lock and its error reaches the caller', async () => {
  const [a, b] = pools.map((p) => new PgAdvisoryLock(p!));
  await expect(
    a!.withLock('lancedb:fail', async () => {
      throw new Error('write failed');
    }),
  ).rejects.toThrow('write failed');
  const t = Date.now();
  await expect(b!.withLock('lancedb:fail', async () => 'got it')).resolves.toBe('got it');
  expect(Date.now() - t).toBeLessThan(2_000);
});

test('when the holder session dies (a killed worker, a DB restart), PostgreSQL releases the lock and the holder is told', async () => {
  const [a, b] = pools.map((p) => new PgAdvisoryLock(p!));
  let holderPid: number | undefined;
  let releaseHolder: () => void = () => undefined;
  const holding = a!
    .withLock('lancedb:crash', async () => {
      // The backend that holds the lock: the session a crashed process would leave behind.
      const { rows } = await db.pool.query<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      holderPid = rows[0]?.pid;
      await new Promise<void>((r) => (releaseHolder = r));
    })
    .catch((err: Error) => err);
  for (let i = 0; i < 100 && holderPid === undefined; i++) await sleep(20);
  expect(holderPid).toBeDefined();

  let acquired = false;
  const waiter = b!.withLock('lancedb:crash', async () => {
    acquired = true;
  });
  await sleep(300);
  expect(acquired).toBe(false);
  await db.pool.query('SELECT pg_terminate_backend($1)', [holderPid]);
  await waiter;
  expect(acquired).toBe(true);
  releaseHolder();
  // The surviving holder learns its exclusion ended early (no crash from the dead socket), and
  // its broken connection is discarded instead of returning to the pool.
  expect(await holding).toBeInstanceOf(LockLostError);
  await expect(a!.withLock('lancedb:crash', async () => 'pool still works')).resolves.toBe('pool still works');
});
