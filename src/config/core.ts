import path from 'node:path';
import { z } from 'zod';
import type { ConfigArea } from './area';
import { url } from './fields';

export const coreArea = {
  title: 'Data, database and logs',
  about: 'Where Biblio keeps its files, which PostgreSQL it uses, and how it names its task queues and logs.',
  variables: z.object({
    BIBLIO_DATA_DIR: z
      .string()
      .min(1)
      .default('.biblio')
      .describe(
        'Directory of renditions, artifacts, LanceDB, temporary files, secrets and demo logs (relative paths resolve against the working directory).',
      ),
    BIBLIO_INGEST_DIR: z
      .string()
      .min(1)
      .optional()
      .describe('The only directory file sources may come from.')
      .meta({ whenUnset: '`$BIBLIO_DATA_DIR/ingest`' }),
    BIBLIO_QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.-]*$/, 'letters, digits, _ . - only')
      .default('')
      .describe('Prefix of every task queue name, isolating deployments that share a Temporal namespace (letters, digits, `_ . -`).'),
    BIBLIO_LOG_LEVEL: z
      .enum(['trace', 'debug', 'info', 'warn', 'error', 'silent'])
      .default('info')
      .describe('Lowest level of the JSON logs (pino): trace, debug, info, warn, error or silent.'),
    DATABASE_URL: url.default('postgres://postgres@127.0.0.1:5432/biblio').describe('PostgreSQL connection URL of the main database.'),
  }),
} satisfies ConfigArea;

type CoreEnv = z.output<typeof coreArea.variables>;

export function coreConfig(e: CoreEnv) {
  const dataDir = path.resolve(e.BIBLIO_DATA_DIR);
  return {
    dataDir,
    ingestDir: path.resolve(e.BIBLIO_INGEST_DIR ?? path.join(dataDir, 'ingest')),
    mediaDir: path.join(dataDir, 'media'),
    artifactsDir: path.join(dataDir, 'artifacts'),
    vectorDir: path.join(dataDir, 'lancedb'),
    tmpDir: path.join(dataDir, 'tmp'),
    queuePrefix: e.BIBLIO_QUEUE_PREFIX,
    logLevel: e.BIBLIO_LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
  };
}
