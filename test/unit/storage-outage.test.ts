import Fastify from 'fastify';
import { ApplicationFailure } from '@temporalio/common';
import { answerError } from '../../src/api/error-handler';
import { isStoreUnreachable, STORAGE_RETRY_MS, withTypedStorageFailures } from '../../src/adapters/storage/typed-failures';

// An object store that cannot be reached fails typed (retryable StorageUnavailable with a pause),
// and the API answers it as the store's outage — not as the database's, whose socket errors look alike.
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' });

class FakeStore {
  calls = 0;
  constructor(private readonly fail: () => Error) {}
  async putBytes(): Promise<void> {
    this.calls++;
    throw this.fail();
  }
  keyOf(id: string): string {
    return `media/${id}`;
  }
}

test('a store that cannot be reached: StorageUnavailable, retryable, with a first pause of 15 s', async () => {
  const store = withTypedStorageFailures(new FakeStore(refused));
  const err = await store.putBytes().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect(err).toMatchObject({ type: 'StorageUnavailable', nonRetryable: false });
  expect((err as ApplicationFailure).nextRetryDelay).toBe(STORAGE_RETRY_MS);
  expect((err as Error).message).toContain('putBytes');
});

test('other failures and synchronous calls pass through untouched', async () => {
  const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
  const store = withTypedStorageFailures(new FakeStore(() => denied));
  await expect(store.putBytes()).rejects.toBe(denied);
  expect(store.keyOf('v1')).toBe('media/v1');
});

test.each([
  ['a socket code', refused()],
  [
    'an SDK 5xx',
    Object.assign(new Error('We encountered an internal error'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }),
  ],
  [
    'the SDK re-wrapping a socket error from another realm',
    new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:9000'),
  ],
  ['a fetch failure whose cause is the socket', Object.assign(new TypeError('fetch failed'), { cause: refused() })],
])('%s reads as the store being unreachable', (_what, err) => {
  expect(isStoreUnreachable(err)).toBe(true);
});

test('the API answers 503 StorageUnavailable with Retry-After, not DatabaseUnavailable', async () => {
  const store = withTypedStorageFailures(new FakeStore(refused));
  const app = Fastify();
  app.setErrorHandler(answerError);
  app.post('/uploads', async () => {
    await store.putBytes();
    return {};
  });
  const res = await app.inject({ method: 'POST', url: '/uploads' });
  expect(res.statusCode).toBe(503);
  expect(res.headers['retry-after']).toBe('5');
  expect(res.json()).toMatchObject({ error: { type: 'StorageUnavailable' } });
  // The same socket error unwrapped (a database call) stays the database's outage.
  const db = Fastify();
  db.setErrorHandler(answerError);
  db.get('/videos', async () => {
    throw refused();
  });
  expect((await db.inject({ method: 'GET', url: '/videos' })).json()).toMatchObject({ error: { type: 'DatabaseUnavailable' } });
});
