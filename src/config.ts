import path from 'node:path';
import { z } from 'zod';
import { crossCheckProblems } from './config-cross-checks';

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
  // Per-call deadline of chat and embeddings (issue 16: 10 s, well under the activity's 3 min).
  OPENAI_TIMEOUT_MS: positiveInt.default(10_000),

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
  MEDIA_HEARTBEAT_TIMEOUT_MS: positiveInt.default(10_000),

  // Media hardening (issue 14). The heartbeat timeout above detects a dead worker (10 s: the
  // encode heartbeats every ≤ 1 s, so it never fires on a healthy encode, even on 2 loaded
  // cores); the stall watchdog detects a live ffmpeg that stopped moving.
  MEDIA_STALL_TIMEOUT_MS: positiveInt.default(10_000),
  // Segmented transcode (issue 15): target segment length, and segments encoded at once per
  // media worker process (1: ffmpeg already uses the cores; more workers share a video's segments).
  MEDIA_SEGMENT_SEC: z.coerce.number().positive().default(10),
  MEDIA_SEGMENT_SLOTS: positiveInt.default(1),
  MEDIA_MAX_WIDTH: positiveInt.default(8192),
  MEDIA_MAX_HEIGHT: positiveInt.default(8192),
  MEDIA_MAX_PIXELS: positiveInt.default(8192 * 4320),
  MEDIA_MAX_DURATION_SEC: positiveInt.default(4 * 3600),
  MEDIA_MIN_DURATION_SEC: z.coerce.number().min(0).default(0.5),
  MEDIA_MIN_FRAMES: positiveInt.default(2),
  // A download that delivers nothing for this long, or less than the minimum rate over such a
  // window, gives the media slot back (retryable SourceUnavailable).
  SOURCE_IDLE_TIMEOUT_MS: positiveInt.default(30_000),
  SOURCE_MIN_BYTES_PER_SEC: z.coerce
    .number()
    .int()
    .min(0)
    .default(16 * 1024),

  BIBLIO_EXIT_AFTER_DEMO: boolFlag.default(false),

  // --- AI analysis that looks at the video and never melts down (issue 16) ---
  OPENAI_TRANSCRIBE_MODEL: z.string().default('whisper-1'),
  // Issue 25: 'off' for providers without /v1/audio/transcriptions (analysis from frames and metadata).
  AI_TRANSCRIBE: z.enum(['on', 'off']).default('on'),
  // Issue 25: JSON over the default price table of the cost report (README "Usage and cost").
  AI_PRICE_TABLE: z.string().min(2).optional(),
  AI_TRANSCRIBE_TIMEOUT_MS: positiveInt.default(60_000),
  AI_MAX_OUTPUT_TOKENS: positiveInt.default(600),
  AI_KEYFRAMES: positiveInt.default(6),
  AI_KEYFRAME_MAX_SIDE: positiveInt.default(512),
  AI_AUDIO_CHUNK_BYTES: positiveInt.default(20 * 1024 ** 2),
  REDIS_URL: z.string().url().optional(),
  AI_REQUESTS_PER_WINDOW: positiveInt.default(500),
  AI_TOKENS_PER_WINDOW: positiveInt.default(200_000),
  // The provider's quota window: a minute for OpenAI; tests shorten it to run "Q per minute" as Q per 10 s.
  AI_RATE_WINDOW_MS: positiveInt.default(60_000),
  AI_LIMITER_MAX_WAIT_MS: positiveInt.default(20_000),
  AI_BREAKER_FAILURES: positiveInt.default(5),
  AI_BREAKER_HALF_OPEN_MS: positiveInt.default(15_000),
  AI_RETRY_BASE_MS: positiveInt.default(2_000),
  AI_RETRY_MAX_MS: positiveInt.default(60_000),
  AI_DEGRADE_AFTER_MS: positiveInt.default(120_000),
  AI_REANALYZE_DELAYS_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated milliseconds')
    .default('60000,300000,1800000,7200000,21600000'),
  // Operations (issue 19): admission control, rate limits, lag signal, TTL, metrics/health ports, outbox.
  ADMISSION_MAX_BACKLOG: z.coerce.number().int().min(0).default(500),
  ADMISSION_MAX_BACKLOG_AGE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(15 * 60_000),
  ADMISSION_MAX_RUNNING: z.coerce.number().int().min(0).default(2_000),
  ADMISSION_CACHE_MS: z.coerce.number().int().min(0).default(1_000),
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(600),
  RATE_LIMIT_WINDOW_MS: positiveInt.default(60_000),
  LAG_ALERT_MS: positiveInt.default(5 * 60_000),
  WORKFLOW_EXECUTION_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 60 * 60_000),
  OUTBOX_SWEEP_MS: z.coerce.number().int().min(0).default(5_000),
  // Unset = no health/metrics server in the worker; 0 = any free port (logged); N = that port.
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  WORKER_HEALTH_HOST: z.string().default('127.0.0.1'),
  // A worker that has not polled for this long is gone or saturated. Must exceed the server's
  // long-poll interval (matching.longPollExpirationInterval, 60 s by default), which idle workers re-poll within.
  POLLER_STALE_AFTER_MS: positiveInt.default(75_000),
  // Storage, uploads, auth, SSRF guard, payload encryption (issue 18).
  // Auth is on unless switched off explicitly; there is no implicit "dev mode".
  BIBLIO_AUTH: z.enum(['on', 'off']).default('on'),
  STORAGE_BACKEND: z.enum(['local', 's3']).default('local'),
  // HMAC key of the local store's signed URLs and AES key of the payload codec (base64, 32 bytes).
  // Unset: generated once and kept in the data dir (dev default; production sets both).
  STORAGE_SIGNING_SECRET: z.string().min(32).optional(),
  BIBLIO_PAYLOAD_KEY: z.string().min(40).optional(),
  // AES key sealing source URLs (credentials, signatures) for the media worker only: the payload
  // codec does not open it (base64, 32 bytes; unset → generated in the data dir).
  BIBLIO_SOURCE_URL_KEY: z.string().min(40).optional(),
  // Where clients reach the API's signed transfer routes (local storage).
  PUBLIC_BASE_URL: z.string().url().optional(),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z.string().min(3).default('biblio'),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: boolFlag.default(true),
  MAX_UPLOAD_BYTES: positiveInt.optional(),
  UPLOAD_URL_TTL_SEC: positiveInt.default(900),
  MULTIPART_THRESHOLD_BYTES: positiveInt.default(64 * 1024 ** 2),
  MULTIPART_PART_BYTES: positiveInt.default(16 * 1024 ** 2),
  SOURCE_URL_TTL_SEC: positiveInt.default(900),
  // How long a run with an expired external URL waits for refreshSourceUrl before dead-lettering.
  // Must be shorter than WORKFLOW_EXECUTION_TIMEOUT_MS (checked at start). 8 h, not just under 24 h:
  // a run that waited for its URL may then wait on the re-analysis timers (up to ~13 h with the
  // defaults' jitter) and must still end inside its 24 h TTL.
  SOURCE_REFRESH_DEADLINE_MS: positiveInt.default(8 * 3600 * 1000),
  // Comma-separated CIDRs or host names URL sources may reach although private (tests: 127.0.0.1).
  BIBLIO_SSRF_ALLOW: z.string().default(''),
  // Embedded PostgreSQL for the demo (issue 20): 'auto' starts one when DATABASE_URL is unset
  // and nothing listens at the probe address; tests point the probe at a closed port.
  BIBLIO_EMBEDDED_PG: z.enum(['auto', 'never']).default('auto'),
  BIBLIO_PG_PROBE_ADDRESS: z
    .string()
    .regex(/^.+:\d+$/, 'host:port')
    .default('127.0.0.1:5432'),
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

// Rules between variables (src/config-cross-checks.ts): one clear message naming both, before anything starts.
const checkedEnvSchema = envSchema.superRefine((e, ctx) => {
  for (const p of crossCheckProblems(e)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [p.variable], message: p.message });
});

export type Config = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  // Empty strings mean "unset" (a common shell habit: FOO= command).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = checkedEnvSchema.safeParse(cleaned);
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
    media: {
      stallTimeoutMs: e.MEDIA_STALL_TIMEOUT_MS,
      segmentSec: e.MEDIA_SEGMENT_SEC,
      segmentSlots: e.MEDIA_SEGMENT_SLOTS,
      limits: {
        maxWidth: e.MEDIA_MAX_WIDTH,
        maxHeight: e.MEDIA_MAX_HEIGHT,
        maxPixels: e.MEDIA_MAX_PIXELS,
        maxDurationSec: e.MEDIA_MAX_DURATION_SEC,
        minDurationSec: e.MEDIA_MIN_DURATION_SEC,
        minFrames: e.MEDIA_MIN_FRAMES,
      },
      sourceIdleTimeoutMs: e.SOURCE_IDLE_TIMEOUT_MS,
      sourceMinBytesPerSec: e.SOURCE_MIN_BYTES_PER_SEC,
    },
    exitAfterDemo: e.BIBLIO_EXIT_AFTER_DEMO,
    ai: {
      keyframes: e.AI_KEYFRAMES,
      keyframeMaxSide: e.AI_KEYFRAME_MAX_SIDE,
      audioChunkBytes: e.AI_AUDIO_CHUNK_BYTES,
      transcribeModel: e.OPENAI_TRANSCRIBE_MODEL,
      transcribe: e.AI_TRANSCRIBE === 'on',
      priceTable: e.AI_PRICE_TABLE,
      transcribeTimeoutMs: e.AI_TRANSCRIBE_TIMEOUT_MS,
      maxOutputTokens: e.AI_MAX_OUTPUT_TOKENS,
      redisUrl: e.REDIS_URL,
      requestsPerWindow: e.AI_REQUESTS_PER_WINDOW,
      tokensPerWindow: e.AI_TOKENS_PER_WINDOW,
      windowMs: e.AI_RATE_WINDOW_MS,
      limiterMaxWaitMs: e.AI_LIMITER_MAX_WAIT_MS,
      breakerFailures: e.AI_BREAKER_FAILURES,
      breakerHalfOpenMs: e.AI_BREAKER_HALF_OPEN_MS,
      retryBaseMs: e.AI_RETRY_BASE_MS,
      retryMaxMs: e.AI_RETRY_MAX_MS,
      degradeAfterMs: e.AI_DEGRADE_AFTER_MS,
      reanalyzeDelaysMs: e.AI_REANALYZE_DELAYS_MS.split(',').map(Number),
    },
    ops: {
      admission: {
        maxBacklog: e.ADMISSION_MAX_BACKLOG,
        maxBacklogAgeMs: e.ADMISSION_MAX_BACKLOG_AGE_MS,
        maxRunning: e.ADMISSION_MAX_RUNNING,
        cacheMs: e.ADMISSION_CACHE_MS,
      },
      rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW_MS },
      lagAlertMs: e.LAG_ALERT_MS,
      workflowExecutionTimeoutMs: e.WORKFLOW_EXECUTION_TIMEOUT_MS,
      outboxSweepMs: e.OUTBOX_SWEEP_MS,
      pollerStaleAfterMs: e.POLLER_STALE_AFTER_MS,
      workerHealth: { port: e.WORKER_HEALTH_PORT ?? null, host: e.WORKER_HEALTH_HOST },
    },
    authEnabled: e.BIBLIO_AUTH === 'on',
    storage: {
      backend: e.STORAGE_BACKEND,
      localRoot: path.join(dataDir, 'objects'),
      signingSecret: e.STORAGE_SIGNING_SECRET,
      publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://${e.API_HOST}:${e.API_PORT}`).replace(/\/$/, ''),
      s3: {
        endpoint: e.S3_ENDPOINT,
        region: e.S3_REGION,
        bucket: e.S3_BUCKET,
        accessKeyId: e.S3_ACCESS_KEY_ID,
        secretAccessKey: e.S3_SECRET_ACCESS_KEY,
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
      },
      maxUploadBytes: e.MAX_UPLOAD_BYTES ?? e.MAX_SOURCE_BYTES,
      uploadUrlTtlSec: e.UPLOAD_URL_TTL_SEC,
      multipartThresholdBytes: e.MULTIPART_THRESHOLD_BYTES,
      multipartPartBytes: e.MULTIPART_PART_BYTES,
      sourceUrlTtlSec: e.SOURCE_URL_TTL_SEC,
    },
    payloadKey: e.BIBLIO_PAYLOAD_KEY,
    sourceUrlKey: e.BIBLIO_SOURCE_URL_KEY,
    sourceRefreshDeadlineMs: e.SOURCE_REFRESH_DEADLINE_MS,
    ssrfAllow: e.BIBLIO_SSRF_ALLOW.split(',')
      .map((v) => v.trim())
      .filter(Boolean),
    embeddedPg: { mode: e.BIBLIO_EMBEDDED_PG, probeAddress: e.BIBLIO_PG_PROBE_ADDRESS, databaseUrlSet: 'DATABASE_URL' in cleaned },
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
export type AiConfig = Config['ai'];
export type QdrantConfig = NonNullable<Config['qdrant']>;
export type FfmpegConfig = Config['ffmpeg'];
export type MediaConfig = Config['media'];
export type MediaLimits = MediaConfig['limits'];
export type StorageConfig = Config['storage'];
