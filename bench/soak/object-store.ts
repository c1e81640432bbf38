/**
 * The soak's object store: a MinIO server of its own (test/support/minio.ts, restartable on the
 * same data dir and port, so the restart-minio fault can SIGKILL it and start it again) with the
 * API and every worker process on STORAGE_BACKEND=s3; or, when no MinIO binary can be had, the
 * local disk store under the stack's data dir, with the reason said (restart-minio is then not
 * injected). Also what the checker gathers from it: open multipart uploads and objects of deleted
 * videos.
 */
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStorage } from '../../src/adapters/storage/s3-storage';
import { withTypedStorageFailures } from '../../src/adapters/storage/typed-failures';
import { startRestartableMinio, type RestartableMinio } from '../../test/support/minio';

export const SOAK_BUCKET = 'biblio-soak';

export type SoakObjectStore =
  | {
      backend: 's3';
      problem?: undefined;
      minio: RestartableMinio;
      /** What the API is given (the workers build their own from `workerEnv`). */
      storage: S3ObjectStorage;
      workerEnv: NodeJS.ProcessEnv;
      stop(): Promise<void>;
      killNow(): void;
    }
  | {
      backend: 'local';
      /** Why the objects are on the disk store (printed; restart-minio is not injected). */
      problem: string;
      minio?: undefined;
      storage?: undefined;
      workerEnv: NodeJS.ProcessEnv;
      stop(): Promise<void>;
      killNow(): void;
    };

/** MinIO when it can be had (BIBLIO_SOAK_STORAGE=local keeps the disk store on purpose), the disk store otherwise. */
export async function startSoakObjectStore(): Promise<SoakObjectStore> {
  const local = (problem: string): SoakObjectStore => ({
    backend: 'local',
    problem,
    workerEnv: { STORAGE_BACKEND: 'local' },
    stop: async () => undefined,
    killNow: () => undefined,
  });
  if (process.env.BIBLIO_SOAK_STORAGE === 'local') return local('BIBLIO_SOAK_STORAGE=local: the objects are on the local disk store');
  const minio = await startRestartableMinio().catch((err: Error) => err);
  if (minio instanceof Error)
    return local(`MinIO did not start (${minio.message.split('\n')[0]}): the objects are on the local disk store`);
  if (!minio)
    return local('no MinIO binary (scripts/ensure-minio.sh found or built none; set MINIO_BIN): the objects are on the local disk store');
  // As the product makes it (src/adapters/storage/index.ts): the store's outages typed.
  const storage = withTypedStorageFailures(
    new S3ObjectStorage({
      endpoint: minio.endpoint,
      region: 'us-east-1',
      bucket: SOAK_BUCKET,
      accessKeyId: minio.accessKeyId,
      secretAccessKey: minio.secretAccessKey,
      forcePathStyle: true,
    }),
  );
  try {
    await storage.ensureBucket();
  } catch (err) {
    await minio.stop().catch(() => undefined);
    return local(`MinIO's bucket could not be created (${(err as Error).message}): the objects are on the local disk store`);
  }
  return {
    backend: 's3',
    minio,
    storage,
    workerEnv: {
      STORAGE_BACKEND: 's3',
      S3_ENDPOINT: minio.endpoint,
      S3_BUCKET: SOAK_BUCKET,
      S3_ACCESS_KEY_ID: minio.accessKeyId,
      S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
    },
    async stop() {
      await storage.close();
      await minio.stop();
    },
    killNow: () => minio.killNow(),
  };
}

/** What the object store holds that it must not at the end: open multipart uploads, objects naming a deleted video. */
export interface ObjectLeftovers {
  openMultipart: string[];
  objectsOfDeleted: Map<string, string[]>;
}

/**
 * On MinIO: ListMultipartUploads (each open one as `<key> (upload <id>)`) and ListObjectsV2 over
 * the bucket (every key naming a deleted video). Undefined on the disk store (gather.ts walks
 * `objects/` itself).
 */
export async function gatherObjectLeftovers(store: SoakObjectStore, deleted: Iterable<string>): Promise<ObjectLeftovers | undefined> {
  if (store.backend !== 's3') return undefined;
  const { minio } = store;
  const s3 = new S3Client({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey },
  });
  try {
    const openMultipart: string[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(
        new ListMultipartUploadsCommand({ Bucket: SOAK_BUCKET, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
      );
      for (const u of page.Uploads ?? []) openMultipart.push(`${u.Key ?? '?'} (upload ${u.UploadId ?? '?'})`);
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: SOAK_BUCKET, ContinuationToken: token }));
      for (const c of page.Contents ?? []) if (c.Key) keys.push(c.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return { openMultipart, objectsOfDeleted: objectsNaming(keys, deleted) };
  } finally {
    s3.destroy();
  }
}

/** Every key (or path) that names one of the ids, per id (an id with none maps to []). */
export function objectsNaming(keys: readonly string[], ids: Iterable<string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const id of ids)
    out.set(
      id,
      keys.filter((k) => k.includes(id)),
    );
  return out;
}
