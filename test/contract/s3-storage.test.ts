import { S3ObjectStorage } from '../../src/adapters/storage/s3-storage';
import { startMinio } from '../support/minio';
import { describeStorageContract } from './storage.contract';

// A real MinIO server started by the test (scripts/ensure-minio.sh builds/caches it).
describeStorageContract('s3 (MinIO)', async () => {
  const minio = await startMinio();
  if (!minio) return undefined;
  const storage = new S3ObjectStorage({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    bucket: 'biblio-contract',
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    forcePathStyle: true,
    partSize: 5 * 1024 * 1024,
  });
  await storage.ensureBucket();
  return {
    storage,
    partsOf: async (key) => Number(/-(\d+)"?$/.exec((await storage.etag(key)) ?? '')?.[1] ?? 1),
    close: async () => {
      await storage.close();
      await minio.stop();
    },
  };
});
