import path from 'node:path';
import { z } from 'zod';
import type { ConfigArea } from './area';
import { boolFlag, positiveInt, secret, url } from './fields';

export const storageArea = {
  title: 'Storage, uploads and source URLs',
  about:
    'Uploads, renditions and thumbnails live on local disk behind HMAC-signed URLs served by the API, or in S3-compatible storage with presigned URLs.',
  variables: z.object({
    STORAGE_BACKEND: z
      .enum(['local', 's3'])
      .default('local')
      .describe('`local` (files under the data directory) or `s3` (S3-compatible storage).'),
    STORAGE_SIGNING_SECRET: z
      .string()
      .min(32)
      .optional()
      .describe("HMAC key of the local store's signed URLs (at least 32 characters).")
      .meta({ whenUnset: 'generated once in `$BIBLIO_DATA_DIR/secrets/`' }),
    PUBLIC_BASE_URL: url
      .optional()
      .describe("Base URL where clients reach the API's signed transfer routes (local storage).")
      .meta({ whenUnset: '`http://API_HOST:API_PORT`' }),
    S3_ENDPOINT: url.optional().describe('Endpoint URL of the S3-compatible server.'),
    S3_REGION: z.string().default('us-east-1').describe('Region of the S3 bucket.'),
    S3_BUCKET: z.string().min(3).default('biblio').describe('Bucket of uploads, renditions and thumbnails (created when missing).'),
    S3_ACCESS_KEY_ID: secret.optional().describe('Access key id of the S3 credentials.'),
    S3_SECRET_ACCESS_KEY: secret.optional().describe('Secret access key of the S3 credentials.'),
    S3_FORCE_PATH_STYLE: boolFlag.default(true).describe('Address the bucket in the path rather than the host name (MinIO needs it).'),
    MAX_UPLOAD_BYTES: positiveInt.optional().describe('Largest upload accepted, in bytes.').meta({ whenUnset: '`MAX_SOURCE_BYTES`' }),
    UPLOAD_URL_TTL_SEC: positiveInt.default(900).describe('Lifetime of a presigned upload URL, in seconds.'),
    MULTIPART_THRESHOLD_BYTES: positiveInt
      .default(64 * 1024 ** 2)
      .describe('Upload size, in bytes, from which an upload is resumable in parts.'),
    MULTIPART_PART_BYTES: positiveInt
      .default(16 * 1024 ** 2)
      .describe('Size of one part of a resumable upload, in bytes (S3: 5 MiB to 5 GiB, at most 10 000 parts).'),
    SOURCE_URL_TTL_SEC: positiveInt.default(900).describe('Lifetime of the GET URLs the pipeline signs for its media worker, in seconds.'),
    SOURCE_REFRESH_DEADLINE_MS: positiveInt
      .default(8 * 3600 * 1000)
      .describe(
        'Milliseconds a run whose external source URL expired waits for refreshSourceUrl before it is dead-lettered (8 h leaves room in the 24 h TTL for the re-analysis timers that may follow).',
      ),
  }),
} satisfies ConfigArea;

/** What storage derives from other areas. */
export interface StorageInputs {
  dataDir: string;
  api: { host: string; port: number; maxSourceBytes: number };
}

export function storageConfig(e: z.output<typeof storageArea.variables>, { dataDir, api }: StorageInputs) {
  return {
    storage: {
      backend: e.STORAGE_BACKEND,
      localRoot: path.join(dataDir, 'objects'),
      signingSecret: e.STORAGE_SIGNING_SECRET,
      publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://${api.host}:${api.port}`).replace(/\/$/, ''),
      s3: {
        endpoint: e.S3_ENDPOINT,
        region: e.S3_REGION,
        bucket: e.S3_BUCKET,
        accessKeyId: e.S3_ACCESS_KEY_ID,
        secretAccessKey: e.S3_SECRET_ACCESS_KEY,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
      },
      maxUploadBytes: e.MAX_UPLOAD_BYTES ?? api.maxSourceBytes,
      uploadUrlTtlSec: e.UPLOAD_URL_TTL_SEC,
      multipartThresholdBytes: e.MULTIPART_THRESHOLD_BYTES,
      multipartPartBytes: e.MULTIPART_PART_BYTES,
      sourceUrlTtlSec: e.SOURCE_URL_TTL_SEC,
    },
    sourceRefreshDeadlineMs: e.SOURCE_REFRESH_DEADLINE_MS,
  };
}
