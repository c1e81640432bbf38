import os from 'node:os';
import { ApplicationFailure } from '@temporalio/common';
import { createStorage } from '../../src/adapters/storage';
import type { ObjectStorage } from '../../src/adapters/storage/port';
import { loadConfig } from '../../src/config';
import { startRestartableMinio, type RestartableMinio } from '../support/minio';

// The product's S3 store (as createStorage makes it) while a real MinIO is down: every call fails
// with one typed, retryable StorageUnavailable that carries a pause, never a raw ECONNREFUSED
// (which dead-lettered valid uploads within three quick media attempts, and which the API
// answered as a database outage); after the restart it works again.
let minio: RestartableMinio | undefined;
let store: ObjectStorage;

beforeAll(async () => {
  minio = await startRestartableMinio();
  if (!minio) return;
  const config = loadConfig({
    BIBLIO_DATA_DIR: os.tmpdir(),
    STORAGE_BACKEND: 's3',
    S3_ENDPOINT: minio.endpoint,
    S3_BUCKET: 'biblio-outage',
    S3_ACCESS_KEY_ID: minio.accessKeyId,
    S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
  });
  store = await createStorage(config);
}, 60_000);
afterAll(async () => {
  await minio?.stop();
});

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  return err;
}

test('MinIO down: writes, reads and a signed download fail typed StorageUnavailable with a pause; back up, they work', async () => {
  if (!minio) return console.warn('SKIPPED: no MinIO binary (scripts/ensure-minio.sh)');
  await store.putBytes('media/outage-1/manifest.json', '{"v":1}', 'application/json');
  const signed = await store.presignGet('media/outage-1/manifest.json', { expiresInSec: 600 });
  await minio.kill();

  const failures = await Promise.all(
    [
      store.putBytes('media/outage-1/other.json', '{}', 'application/json'),
      store.getBytes('media/outage-1/manifest.json'),
      store.head('media/outage-1/manifest.json'),
      store.download(signed.url, `${os.tmpdir()}/biblio-outage-download`, { maxBytes: 1_000 }),
    ].map(failureOf),
  );
  for (const f of failures) {
    expect(f.type).toBe('StorageUnavailable');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBeDefined();
  }

  await minio.start();
  expect((await store.getBytes('media/outage-1/manifest.json'))?.toString()).toBe('{"v":1}');
}, 120_000);
