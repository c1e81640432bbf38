import { z } from 'zod';
import type { ConfigArea } from './area';
import { commaList, onOff, positiveInt, secret, url } from './fields';

export const aiArea = {
  title: 'AI analysis',
  about:
    'Without `OPENAI_API_KEY` and `OPENAI_BASE_URL` the offline analyzer runs; either one switches to an OpenAI-compatible provider behind a shared rate limit, a circuit breaker and jittered retries, and an analysis that cannot finish in time leaves the video ready with a metadata stand-in that is analysed again later.',
  variables: z.object({
    OPENAI_API_KEY: secret
      .optional()
      .describe('API key of the OpenAI-compatible provider; setting it (or OPENAI_BASE_URL) enables AI analysis.'),
    OPENAI_BASE_URL: url
      .optional()
      .describe('Base URL of an OpenAI-compatible server (a local one needs no key); setting it enables AI analysis.'),
    OPENAI_CHAT_MODEL: z.string().default('gpt-4o-mini').describe('Chat model of the analysis; it must accept images.'),
    OPENAI_EMBEDDING_MODEL: z.string().default('text-embedding-3-small').describe('Embedding model of indexing and search.'),
    OPENAI_TRANSCRIBE_MODEL: z.string().default('whisper-1').describe('Speech-to-text model of the transcript.'),
    OPENAI_TIMEOUT_MS: positiveInt.default(10_000).describe('Deadline of one chat or embeddings call, in milliseconds.'),
    AI_TRANSCRIBE: onOff
      .default('on')
      .describe('`off` never calls `/v1/audio/transcriptions` (for providers without it): analysis from frames and metadata only.'),
    AI_PRICE_TABLE: z
      .string()
      .min(2)
      .optional()
      .describe("JSON laid over the cost report's default price table (per model, per million tokens)."),
    AI_TRANSCRIBE_TIMEOUT_MS: positiveInt.default(60_000).describe('Deadline of one transcription call, in milliseconds.'),
    AI_MAX_OUTPUT_TOKENS: positiveInt
      .default(1000)
      .describe('Most tokens one chat answer may use (summary, tags, chapters and a line per keyframe).'),
    AI_KEYFRAMES: positiveInt.default(6).describe('Keyframes of a video the model looks at.'),
    AI_KEYFRAME_MAX_SIDE: positiveInt.default(512).describe('Longest side of a keyframe sent to the model, in pixels.'),
    AI_AUDIO_CHUNK_BYTES: positiveInt.default(20 * 1024 ** 2).describe('Largest audio chunk sent to one transcription call, in bytes.'),
    REDIS_URL: url
      .optional()
      .describe('Redis holding the AI rate limit all workers share.')
      .meta({ whenUnset: 'the main PostgreSQL holds it' }),
    AI_REQUESTS_PER_WINDOW: positiveInt
      .default(500)
      .describe("Requests the provider allows per AI_RATE_WINDOW_MS (set to your account's quota)."),
    AI_TOKENS_PER_WINDOW: positiveInt
      .default(200_000)
      .describe("Tokens the provider allows per AI_RATE_WINDOW_MS (set to your account's quota)."),
    AI_RATE_WINDOW_MS: positiveInt
      .default(60_000)
      .describe("Length of the provider's quota window, in milliseconds (a minute for OpenAI)."),
    AI_LIMITER_MAX_WAIT_MS: positiveInt
      .default(20_000)
      .describe(
        'Longest wait for room in the quota window, in milliseconds; past it the call fails as AiRateLimited and retries when the window reopens.',
      ),
    AI_BREAKER_FAILURES: positiveInt.default(5).describe('Consecutive provider failures that open the circuit breaker.'),
    AI_BREAKER_HALF_OPEN_MS: positiveInt
      .default(15_000)
      .describe('Milliseconds the open breaker refuses calls before it lets one probe through.'),
    AI_RETRY_BASE_MS: positiveInt.default(2_000).describe('First delay of the full-jitter retry backoff, in milliseconds.'),
    AI_RETRY_MAX_MS: positiveInt.default(60_000).describe('Cap of every retry delay, in milliseconds.'),
    AI_DEGRADE_AFTER_MS: positiveInt
      .default(120_000)
      .describe('Milliseconds an analysis may keep retrying before the video goes ready without it (analysis "delayed").'),
    AI_REANALYZE_DELAYS_MS: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'comma-separated milliseconds')
      .default('60000,300000,1800000,7200000,21600000')
      .describe(
        'Comma-separated delays, in milliseconds, of the durable timers that retry a delayed analysis (jittered; none after the last).',
      ),
  }),
} satisfies ConfigArea;

export function aiConfig(e: z.output<typeof aiArea.variables>) {
  return {
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
      reanalyzeDelaysMs: commaList(e.AI_REANALYZE_DELAYS_MS).map(Number),
    },
  };
}
