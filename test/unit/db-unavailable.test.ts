import net from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { Client } from 'pg';
import { withTypedDatabaseErrors } from '../../src/activities/indexer/database-errors';
import { asDatabaseUnavailable, DatabaseUnavailableError } from '../../src/api/database-unavailable';
import { HttpError } from '../../src/api/http-error';
import { LastKnownStatus } from '../../src/app/last-known-status';
import { OutageTolerantKeys } from '../../src/api/outage-tolerant-keys';
import type { VideoStatus } from '../../src/app/status';
import { createPool } from '../../src/db/database';
import { isDatabaseUnavailable } from '../../src/db/unavailable';

/** A port nothing listens on any more (the unit layer lets a test connect to a port it opened). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** An error as node-postgres raises it for a server answer (code = SQLSTATE). */
const pgError = (code: string, message = 'server said no') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable: the one classification of PostgreSQL errors', () => {
  test('a refused connection, through a client and through the pool, is "unavailable"', async () => {
    const url = `postgres://postgres@127.0.0.1:${await closedPort()}/biblio`;
    const client = new Client({ connectionString: url });
    const viaClient = await client.connect().catch((e: unknown) => e);
    expect(isDatabaseUnavailable(viaClient)).toBe(true);
    const pool = createPool(url);
    const viaPool = await pool.query('SELECT 1').catch((e: unknown) => e);
    await pool.end();
    expect(isDatabaseUnavailable(viaPool)).toBe(true);
  });

  test.each([
    ['08006 connection failure', pgError('08006')],
    ['57P01 admin shutdown (server stopping)', pgError('57P01', 'terminating connection due to administrator command')],
    ['57P03 cannot connect now (server starting)', pgError('57P03', 'the database system is starting up')],
    ['53300 too many connections', pgError('53300')],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['the pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['every address of localhost refused', new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')], '')],
    ['a wrapped refusal', new Error('could not read', { cause: pgError('ECONNREFUSED') })],
  ])('%s is "unavailable"', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  test.each([
    ['a unique violation', pgError('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', pgError('42601')],
    ['invalid input (NUL byte)', pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['not an error at all', 'ECONNREFUSED'],
  ])('%s is not', (_what, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});

describe('the API side', () => {
  test('a database outage becomes 503 DatabaseUnavailable with Retry-After in the one error shape; other errors are left alone', () => {
    const typed = asDatabaseUnavailable(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'));
    expect(typed).toBeInstanceOf(DatabaseUnavailableError);
    expect(typed?.status).toBe(503);
    expect(typed?.opts.headers).toEqual({ 'retry-after': '5' });
    // No internals (host, port) in what the client reads.
    expect(typed?.toBody()).toEqual({
      error: { type: 'DatabaseUnavailable', message: 'the main database is unreachable', videoId: null, hint: expect.any(String) },
    });
    expect(asDatabaseUnavailable(pgError('23505'))).toBeUndefined();
    expect(asDatabaseUnavailable(new HttpError(404, 'VideoNotFound', 'no'))).toBeUndefined();
  });

  test('the last known status is served flagged stale, with the time it was current; forgotten videos have none', () => {
    const cache = new LastKnownStatus(2);
    const status = (videoId: string) => ({ videoId, status: 'processing', step: 'index' }) as unknown as VideoStatus;
    cache.remember(status('a'), new Date('2026-12-06T08:00:00Z'));
    expect(cache.recall('a')).toEqual({ videoId: 'a', status: 'processing', step: 'index', stale: true, asOf: '2026-12-06T08:00:00.000Z' });
    const err = new DatabaseUnavailableError('down', { videoId: 'a', lastKnown: cache.recall('a') });
    expect(err.toBody()).toMatchObject({ error: { type: 'DatabaseUnavailable', videoId: 'a' }, lastKnown: { stale: true, step: 'index' } });
    // Bounded: the least recently served goes first.
    cache.remember(status('b'));
    cache.remember(status('c'));
    expect(cache.recall('a')).toBeUndefined();
    cache.forget('b');
    expect(cache.recall('b')).toBeUndefined();
    expect(cache.recall('c')).toBeDefined();
  });

  test('during an outage a key verified within the grace period still verifies; unknown, revoked or old ones surface the outage', async () => {
    const down = pgError('ECONNREFUSED');
    let now = 0;
    let dbUp = true;
    const live = new Map([['good', { id: 'k1', role: 'viewer' }]]);
    // A stand-in for ApiKeysRepo.verify: this test is about what happens when it throws.
    const repo = {
      verify: async (token: string) => {
        if (!dbUp) throw down;
        return live.get(token) as never;
      },
    };
    const keys = new OutageTolerantKeys(repo, { graceMs: 60_000, now: () => now });
    expect(await keys.verify('good')).toMatchObject({ id: 'k1' });
    dbUp = false;
    now = 59_000;
    expect(await keys.verify('good')).toMatchObject({ id: 'k1' });
    await expect(keys.verify('never-seen')).rejects.toBe(down);
    now = 61_000;
    await expect(keys.verify('good')).rejects.toBe(down);
    // Revoked while the database was up: forgotten at once.
    dbUp = true;
    now = 0;
    await keys.verify('good');
    live.delete('good');
    expect(await keys.verify('good')).toBeUndefined();
    dbUp = false;
    await expect(keys.verify('good')).rejects.toBe(down);
    // Not an outage: never masked.
    const bug = new TypeError('bug');
    const broken = new OutageTolerantKeys({ verify: () => Promise.reject(bug) });
    await expect(broken.verify('good')).rejects.toBe(bug);
  });

  test('records a key use through the repository it wraps (auth writes last_used_at through it)', async () => {
    const used: string[] = [];
    const keys = new OutageTolerantKeys({ verify: async () => undefined, markUsed: async (id: string) => void used.push(id) });
    await keys.markUsed('k1');
    expect(used).toEqual(['k1']);
  });
});

describe('the worker side', () => {
  test('index activities raise a retryable DatabaseUnavailable for an outage, keep typed failures and bugs as they are', async () => {
    const typed = ApplicationFailure.nonRetryable('gone', 'SourceNotFound');
    const bug = new TypeError('bug');
    const acts = withTypedDatabaseErrors({
      refused: async () => {
        throw pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432');
      },
      typed: async () => {
        throw typed;
      },
      bug: async () => {
        throw bug;
      },
      ok: async (n: number) => n + 1,
    });
    const err = (await acts.refused().catch((e: unknown) => e)) as ApplicationFailure;
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err.type).toBe('DatabaseUnavailable');
    expect(err.nonRetryable).toBe(false);
    expect(err.message).toMatch(/refused.*ECONNREFUSED/);
    await expect(acts.typed()).rejects.toBe(typed);
    await expect(acts.bug()).rejects.toBe(bug);
    expect(await acts.ok(1)).toBe(2);
  });
});
