import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { gatherObjectLeftovers, SOAK_BUCKET, startSoakObjectStore, type SoakObjectStore } from '../../bench/soak/object-store';

// The soak's MinIO (bench/soak/object-store.ts) on a real server: what the restart-minio fault
// does to it, and what the checker gathers from it.
let store: SoakObjectStore;
beforeAll(async () => {
  store = await startSoakObjectStore();
}, 60_000);
afterAll(async () => {
  await store?.stop();
});

test('killed -9 and started again, MinIO keeps its endpoint and what it stored', async () => {
  if (store.backend !== 's3') return console.warn(`SKIPPED: ${store.problem}`);
  const { minio, storage } = store;
  await storage.putBytes('media/soak-t-0001/manifest.json', '{"a":1}', 'application/json');
  const before = minio.pid;
  await minio.kill();
  expect(minio.pid).toBeUndefined();
  await expect(fetch(`${minio.endpoint}/minio/health/live`)).rejects.toThrow();
  await minio.start();
  expect(minio.pid).not.toBe(before);
  expect((await storage.getBytes('media/soak-t-0001/manifest.json'))?.toString()).toBe('{"a":1}');
}, 90_000);

test('the checker finds an open multipart upload and the objects of a deleted video on MinIO', async () => {
  if (store.backend !== 's3') return console.warn(`SKIPPED: ${store.problem}`);
  const { minio, storage } = store;
  await storage.putBytes('uploads/soak-t-0002/u1', 'x', 'video/mp4');
  await storage.putBytes('media/soak-t-0003/rendition.mp4', 'y', 'video/mp4');
  const s3 = new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
  });
  const open = await s3.send(new CreateMultipartUploadCommand({ Bucket: SOAK_BUCKET, Key: 'uploads/soak-t-0004/u2' }));
  s3.destroy();
  const got = await gatherObjectLeftovers(store, ['soak-t-0002', 'soak-t-0005']);
  expect(got?.openMultipart).toEqual([`uploads/soak-t-0004/u2 (upload ${open.UploadId})`]);
  expect(got?.objectsOfDeleted).toEqual(
    new Map([
      ['soak-t-0002', ['uploads/soak-t-0002/u1']],
      ['soak-t-0005', []],
    ]),
  );
}, 60_000);
