import type { StorageConfig } from '../../config';
import { loadSecret } from '../../security/dev-secrets';
import { LocalObjectStorage } from './local-storage';
import type { ObjectStorage } from './port';
import { S3ObjectStorage } from './s3-storage';
import { withTypedStorageFailures } from './typed-failures';

export type { ObjectStorage } from './port';

/** The configured store: S3-compatible when STORAGE_BACKEND=s3, else local disk with signed URLs. */
export async function createStorage(config: { dataDir: string; storage: StorageConfig }): Promise<ObjectStorage> {
  const s = config.storage;
  if (s.backend === 's3') {
    // A store over the network can be down for a while: its failures are typed (typed-failures.ts).
    const store = withTypedStorageFailures(new S3ObjectStorage({ ...s.s3 }));
    await store.ensureBucket();
    return store;
  }
  const secret = await loadSecret(s.signingSecret, config.dataDir, 'storage-signing-key');
  const store = new LocalObjectStorage({ root: s.localRoot, secret, publicBaseUrl: s.publicBaseUrl });
  // What a crash mid-upload left in staging; an hour without a write is not a live upload.
  await store.sweepStaged(60 * 60 * 1000);
  return store;
}
