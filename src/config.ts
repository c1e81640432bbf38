import path from 'node:path';
import { z } from 'zod';

/**
 * The one place that reads the environment. Every default makes the embedded set-up work
 * with nothing configured; every value is validated once, at start-up, so a typo fails
 * fast with the variable's name instead of surfacing as a strange error mid-run.
 */
const boolFlag = z.enum(['1', '0', 'true', 'false', 'yes', 'no']).transform((v) => v === '1' || v === 'true' || v === 'yes');

const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  BIBLIO_DATA_DIR: z.string().min(1).default('.biblio'),
  BIBLIO_INGEST_DIR: z.string().min(1).optional(),
  BIBLIO_QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]*$/, 'letters, digits, _ . - only')
    .default(''),
  BIBLIO_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),

  DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/biblio'),

  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  MAX_SOURCE_BYTES: positiveInt.default(2 * 1024 ** 3),
  TEMPORAL_UI_URL: z.string().url().default('http://localhost:8233'),

  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_CHAT_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_EMBEDDING_MODEL: z.string().default('text-embedding-3-small'),
  OPENAI_TIMEOUT_MS: positiveInt.default(30_000),

  QDRANT_URL: z.string().url().optional(),
  QDRANT_API_KEY: z.string().min(1).optional(),

  FFMPEG_PATH: z.string().default('ffmpeg'),
  FFPROBE_PATH: z.string().default('ffprobe'),
  // 0 lets ffmpeg pick; tests and small machines set 1 so the Temporal server keeps a core.
  FFMPEG_THREADS: z.coerce.number().int().min(0).default(0),
  FFMPEG_PRESET: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast'),

  MEDIA_CONCURRENCY: positiveInt.default(1),
  AI_CONCURRENCY: positiveInt.default(4),
  INDEX_CONCURRENCY: positiveInt.default(4),
  PIPELINE_CONCURRENCY: positiveInt.default(20),
  WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  // Heartbeat timeout of the long media step: generous because ffmpeg can starve the event
  // loop on a 2-core machine; the workflow reads it from its input, never from env.
  MEDIA_HEARTBEAT_TIMEOUT_MS: positiveInt.default(30_000),

  BIBLIO_EXIT_AFTER_DEMO: boolFlag.default(false),

  // Index saga, reconciler and retention (issue 17).
  RECONCILE_ENABLED: boolFlag.default(true),
  RECONCILE_INTERVAL_MS: positiveInt.default(5 * 60_000),
  RECONCILE_PAGE_SIZE: positiveInt.default(200),
  RECONCILE_MAX_PAGES_PER_RUN: positiveInt.default(20),
  RECONCILE_STALE_AFTER_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(2 * 60_000),
  RETENTION_TMP_MS: positiveInt.default(24 * 3600_000),
  RETENTION_DEAD_LETTER_INPUT_MS: positiveInt.default(7 * 24 * 3600_000),
  VECTOR_ANN_THRESHOLD: positiveInt.default(50_000),
  // Test hooks, never set in production: a file whose existence makes the vector store fail,
  // and activity names that stall after their commit so a test can kill -9 the worker there.
  BIBLIO_TEST_VECTOR_FAULT_FILE: z.string().min(1).optional(),
  BIBLIO_TEST_STALL_AFTER_COMMIT: z.string().min(1).optional(),
});

export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  // Empty strings mean "unset" (a common shell habit: FOO= command).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new ConfigError(`Invalid environment:\n${problems}`);
  }
  const e = parsed.data;
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
    api: { host: e.API_HOST, port: e.API_PORT, maxSourceBytes: e.MAX_SOURCE_BYTES },
    temporalUiUrl: e.TEMPORAL_UI_URL.replace(/\/$/, ''),
    openai:
      e.OPENAI_API_KEY || e.OPENAI_BASE_URL
        ? {
            apiKey: e.OPENAI_API_KEY,
            baseURL: e.OPENAI_BASE_URL,
            chatModel: e.OPENAI_CHAT_MODEL,
            embeddingModel: e.OPENAI_EMBEDDING_MODEL,
            timeoutMs: e.OPENAI_TIMEOUT_MS,
          }
        : undefined,
    qdrant: e.QDRANT_URL ? { url: e.QDRANT_URL, apiKey: e.QDRANT_API_KEY } : undefined,
    ffmpeg: {
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
      threads: e.FFMPEG_THREADS,
      preset: e.FFMPEG_PRESET,
    },
    workers: {
      mediaConcurrency: e.MEDIA_CONCURRENCY,
      aiConcurrency: e.AI_CONCURRENCY,
      indexConcurrency: e.INDEX_CONCURRENCY,
      pipelineConcurrency: e.PIPELINE_CONCURRENCY,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
      mediaHeartbeatTimeoutMs: e.MEDIA_HEARTBEAT_TIMEOUT_MS,
    },
    exitAfterDemo: e.BIBLIO_EXIT_AFTER_DEMO,
    index: {
      annThreshold: e.VECTOR_ANN_THRESHOLD,
      testFaultFile: e.BIBLIO_TEST_VECTOR_FAULT_FILE,
      testStallAfterCommit: e.BIBLIO_TEST_STALL_AFTER_COMMIT?.split(',').map((s) => s.trim()) ?? [],
    },
    reconcile: {
      enabled: e.RECONCILE_ENABLED,
      intervalMs: e.RECONCILE_INTERVAL_MS,
      pageSize: e.RECONCILE_PAGE_SIZE,
      maxPagesPerRun: e.RECONCILE_MAX_PAGES_PER_RUN,
      staleAfterMs: e.RECONCILE_STALE_AFTER_MS,
      retentionTmpMs: e.RETENTION_TMP_MS,
      retentionDeadLetterInputMs: e.RETENTION_DEAD_LETTER_INPUT_MS,
    },
  };
}

export type OpenAiConfig = NonNullable<Config['openai']>;
export type QdrantConfig = NonNullable<Config['qdrant']>;
export type FfmpegConfig = Config['ffmpeg'];
