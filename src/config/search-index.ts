import { z } from 'zod';
import type { ConfigArea } from './area';
import { positiveInt, secret, url } from './fields';

export const searchIndexArea = {
  title: 'Search index and vector store',
  about:
    'Embedded LanceDB (in the data directory) unless Qdrant is configured. The two `BIBLIO_TEST_*` hooks exist for the fault tests and are never set in production.',
  variables: z.object({
    QDRANT_URL: url.optional().describe('URL of a Qdrant server to use instead of the embedded LanceDB.'),
    QDRANT_API_KEY: secret.optional().describe('API key of the Qdrant server.'),
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
  }),
} satisfies ConfigArea;

export function searchIndexConfig(e: z.output<typeof searchIndexArea.variables>) {
  return {
    qdrant: e.QDRANT_URL ? { url: e.QDRANT_URL, apiKey: e.QDRANT_API_KEY } : undefined,
    index: {
      annThreshold: e.VECTOR_ANN_THRESHOLD,
      testFaultFile: e.BIBLIO_TEST_VECTOR_FAULT_FILE,
      testStallAfterCommit: e.BIBLIO_TEST_STALL_AFTER_COMMIT?.split(',').map((s) => s.trim()) ?? [],
    },
  };
}
