import { z } from 'zod';
import type { ConfigArea } from './area';
import { positiveInt, secret, url } from './fields';

export const searchIndexArea = {
  title: 'Search index and vector store',
  about:
    'Embedded LanceDB (in the data directory, or in the S3 bucket for workers on several hosts) unless Qdrant is configured. The `BIBLIO_TEST_*` hooks exist for the fault tests and are never set in production.',
  variables: z.object({
    QDRANT_URL: url.optional().describe('URL of a Qdrant server to use instead of the embedded LanceDB.'),
    QDRANT_API_KEY: secret.optional().describe('API key of the Qdrant server.'),
    VECTOR_LANCEDB_URI: z
      .string()
      .regex(/^(s3:\/\/[^/]+(\/.*)?|\/.*)$/, 'an absolute directory or s3://bucket/prefix')
      .optional()
      .describe(
        'Where LanceDB keeps its tables: an absolute directory, or `s3://bucket/prefix` in the S3-compatible storage of `S3_ENDPOINT` with the `S3_*` credentials, so index workers and the API on separate hosts share one vector store (writers still serialise on a PostgreSQL advisory lock).',
      )
      .meta({ whenUnset: '`$BIBLIO_DATA_DIR/lancedb`' }),
    VECTOR_ANN_THRESHOLD: positiveInt
      .default(50_000)
      .describe('Rows from which LanceDB searches an approximate (ANN) index instead of scanning every vector.'),
    BIBLIO_TEST_VECTOR_FAULT_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('Test hook: a file whose existence makes every vector store call fail.'),
    BIBLIO_TEST_STALL_AFTER_COMMIT: z
      .string()
      .min(1)
      .optional()
      .describe('Test hook: comma-separated activity names that stall right after their commit, so a test can kill -9 the worker there.'),
    BIBLIO_TEST_BROKEN_BUILD: z
      .enum(['keep-points-of-deleted'])
      .optional()
      .describe(
        'Test hook: a deliberately broken build the soak must catch (keep-points-of-deleted: the deletion saga leaves the vector points).',
      ),
  }),
} satisfies ConfigArea;

/** What the search index derives from other areas: the default directory and the S3 connection. */
export interface SearchIndexInputs {
  vectorDir: string;
  s3: { endpoint?: string; region: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean };
}

export function searchIndexConfig(e: z.output<typeof searchIndexArea.variables>, { vectorDir, s3 }: SearchIndexInputs) {
  const uri = e.VECTOR_LANCEDB_URI ?? vectorDir;
  return {
    qdrant: e.QDRANT_URL ? { url: e.QDRANT_URL, apiKey: e.QDRANT_API_KEY } : undefined,
    lancedb: { uri, storageOptions: uri.startsWith('s3://') ? lanceS3Options(s3) : undefined },
    index: {
      annThreshold: e.VECTOR_ANN_THRESHOLD,
      testFaultFile: e.BIBLIO_TEST_VECTOR_FAULT_FILE,
      testStallAfterCommit: e.BIBLIO_TEST_STALL_AFTER_COMMIT?.split(',').map((s) => s.trim()) ?? [],
      testBrokenBuild: e.BIBLIO_TEST_BROKEN_BUILD,
    },
  };
}

/**
 * LanceDB's object-store options (the Rust object_store keys) for the same S3 server and
 * credentials the storage port uses. Unset credentials leave LanceDB to the default AWS chain.
 */
export function lanceS3Options(s3: SearchIndexInputs['s3']): Record<string, string> {
  const opts: Record<string, string> = { region: s3.region };
  if (s3.endpoint) {
    opts.endpoint = s3.endpoint;
    if (s3.endpoint.startsWith('http://')) opts.allow_http = 'true';
  }
  if (s3.forcePathStyle) opts.virtual_hosted_style_request = 'false';
  if (s3.accessKeyId && s3.secretAccessKey) {
    opts.aws_access_key_id = s3.accessKeyId;
    opts.aws_secret_access_key = s3.secretAccessKey;
  }
  return opts;
}
