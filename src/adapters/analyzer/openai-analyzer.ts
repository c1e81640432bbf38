import { readFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, toFile } from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { OpenAiConfig } from '../../config';
import { ErrorType, failure } from '../../errors';
import type { AnalysisInputs, Chapter } from '../../workflows/contracts';
import type { Analysis, AnalysisRequest, Analyzer } from './port';
import type { RateLimitGate, Reservation } from './rate-limit-gate';
import { cacheKey, type ResponseCache } from './response-cache';

export interface OpenAiAnalyzerOptions {
  transcribeModel?: string;
  /** Deadline of one transcription call (longer than chat: it uploads audio). */
  transcribeTimeoutMs?: number;
  maxOutputTokens?: number;
  /** The shared rate limit; absent = unlimited (unit tests). */
  gate?: RateLimitGate;
  /** Responses by input hash; absent = no caching. */
  cache?: ResponseCache;
}

/** Bump when the prompt or the answer's schema changes: cached answers of another version are not reused. */
export const PROMPT_VERSION = 'v2-vision-chapters';

type Usage = { inputTokens: number; outputTokens: number; calls: number };
type Metered<T> = { value: T; inputTokens: number; outputTokens: number };

/**
 * Analyzer backed by any OpenAI-compatible endpoint. It looks at the video: keyframes go to a
 * vision-capable chat model as image parts, the audio to the transcription endpoint (chunked
 * by the media step under the upload limit), and the answer is structured JSON (summary, tags,
 * chapters) validated with zod. The embedding is computed from summary + tags + transcript.
 *
 * Every provider call: goes through the shared rate limit (reserve, then settle from `usage`),
 * has its own deadline, is cached by input hash (never pay twice), and fails typed. Retrying is
 * Temporal's job (it knows the policy and survives restarts), so the SDK's retries are off.
 */
export class OpenAiAnalyzer implements Analyzer {
  readonly name = 'openai';
  readonly offline = false;
  readonly model: string;
  private readonly client: OpenAI;
  private readonly transcribeModel: string;
  private readonly transcribeTimeoutMs: number;
  private readonly maxOutputTokens: number;

  constructor(
    private readonly cfg: OpenAiConfig,
    private readonly opts: OpenAiAnalyzerOptions = {},
  ) {
    this.model = cfg.embeddingModel;
    this.transcribeModel = opts.transcribeModel ?? 'whisper-1';
    this.transcribeTimeoutMs = opts.transcribeTimeoutMs ?? Math.max(cfg.timeoutMs, 60_000);
    this.maxOutputTokens = opts.maxOutputTokens ?? 600;
    this.client = new OpenAI({
      // The SDK refuses to construct without a key even when baseURL points at a keyless
      // local server (Ollama, llama.cpp, vLLM); those ignore the Authorization header.
      apiKey: cfg.apiKey ?? 'not-needed',
      // null, not undefined: undefined makes the SDK read OPENAI_* env itself, behind config's back.
      baseURL: cfg.baseURL ?? null,
      organization: null,
      project: null,
      // Defaults are 2 hidden retries and a 10-minute timeout: both would hide faults from
      // Temporal's retry policy and outlive the activity's own timeouts.
      maxRetries: 0,
      timeout: Math.max(cfg.timeoutMs, this.transcribeTimeoutMs),
    });
  }

  async analyze(req: AnalysisRequest): Promise<Analysis> {
    const usage: Usage = { inputTokens: 0, outputTokens: 0, calls: 0 };
    const transcript = await this.transcribeAll(req.inputs, req.signal, usage);
    const words = await this.describe(req, transcript, usage);
    const summary = truncate(words.summary.trim(), MAX_SUMMARY_CHARS);
    const tags = cleanTags(words.tags);
    const chapters = cleanChapters(words.chapters, req.facts.durationSec);
    // The title goes in too: people search for what they named the file as often as for what is in it.
    const text = [req.title, summary, tags.join(', '), transcript.slice(0, MAX_EMBED_TRANSCRIPT_CHARS)].filter(Boolean).join('\n');
    const embedding = await this.cached('embedding', this.cfg.embeddingModel, [text], usage, () => this.embedOnce(text, req.signal));
    return { summary, tags, chapters, embedding, ...(transcript ? { transcript } : {}), usage };
  }

  async embedQuery(text: string, signal?: AbortSignal): Promise<number[]> {
    return (await this.embedOnce(text, signal)).value;
  }

  private async transcribeAll(inputs: AnalysisInputs | undefined, signal: AbortSignal | undefined, usage: Usage): Promise<string> {
    if (!inputs || inputs.audioChunks.length === 0) return '';
    const parts: string[] = [];
    for (const chunk of inputs.audioChunks) {
      const text = await this.cached('transcription', this.transcribeModel, [chunk.sha256], usage, async () => {
        const bytes = await readFile(chunk.path);
        // Whisper bills by audio length, not tokens: reserve a token-ish estimate so the token budget still sees it.
        return this.request(Math.ceil(chunk.durationSec * 10) + 50, this.transcribeTimeoutMs, signal, async (sig) => {
          const { data, response } = await this.client.audio.transcriptions
            .create(
              {
                file: await toFile(bytes, path.basename(chunk.path), { type: 'audio/mpeg' }),
                model: this.transcribeModel,
                response_format: 'json',
              },
              { signal: sig },
            )
            .withResponse();
          const parsed = transcriptionSchema.safeParse(data);
          if (!parsed.success) throw new MalformedResponse('transcription response has no text');
          const u = parsed.data.usage;
          return {
            headers: response.headers,
            value: parsed.data.text.trim(),
            inputTokens: u?.input_tokens ?? u?.prompt_tokens ?? 0,
            outputTokens: u?.output_tokens ?? 0,
          };
        });
      });
      if (text) parts.push(text);
    }
    return parts.join(' ').replace(/\s+/g, ' ').trim();
  }

  private async describe(req: AnalysisRequest, transcript: string, usage: Usage): Promise<AnalysisWords> {
    const keyframes = req.inputs?.keyframes ?? [];
    const userText = JSON.stringify({
      title: req.title,
      facts: req.facts,
      keyframeTimesSec: keyframes.map((k) => k.atSec),
      transcript: transcript ? truncate(transcript, MAX_PROMPT_TRANSCRIPT_CHARS) : null,
      audio: req.inputs?.audio ?? 'unknown',
    });
    const key = [PROMPT_VERSION, userText, ...keyframes.map((k) => k.sha256)];
    return this.cached('chat', this.cfg.chatModel, key, usage, async () => {
      const images = await Promise.all(keyframes.map(async (k) => `data:image/jpeg;base64,${(await readFile(k.path)).toString('base64')}`));
      const estimate =
        Math.ceil((SYSTEM_PROMPT.length + userText.length) / 4) + images.length * LOW_DETAIL_IMAGE_TOKENS + this.maxOutputTokens + 20;
      return this.request(estimate, this.cfg.timeoutMs, req.signal, async (sig) => {
        const { data, response } = await this.client.chat.completions
          .create(
            {
              model: this.cfg.chatModel,
              response_format: { type: 'json_object' },
              max_tokens: this.maxOutputTokens,
              messages: [
                { role: 'system', content: SYSTEM_PROMPT },
                {
                  role: 'user',
                  content: [
                    { type: 'text', text: userText },
                    ...images.map((url) => ({ type: 'image_url' as const, image_url: { url, detail: 'low' as const } })),
                  ],
                },
              ],
            },
            { signal: sig },
          )
          .withResponse();
        const u = usageSchema.safeParse((data as { usage?: unknown }).usage);
        return {
          headers: response.headers,
          value: parseAnalysisJson(parseChatContent(data)),
          inputTokens: u.success ? u.data.prompt_tokens : estimate - this.maxOutputTokens,
          outputTokens: u.success ? (u.data.completion_tokens ?? 0) : this.maxOutputTokens,
        };
      });
    });
  }

  private embedOnce(input: string, signal: AbortSignal | undefined): Promise<Metered<number[]>> {
    return this.request(Math.ceil(input.length / 4) + 10, this.cfg.timeoutMs, signal, async (sig) => {
      // Explicit 'float': left unset, the SDK asks for base64 and decodes it, which breaks
      // compatible servers that ignore encoding_format and answer with plain arrays.
      const { data, response } = await this.client.embeddings
        .create({ model: this.cfg.embeddingModel, input, encoding_format: 'float' }, { signal: sig })
        .withResponse();
      const u = usageSchema.safeParse((data as { usage?: unknown }).usage);
      return { headers: response.headers, value: parseEmbedding(data), inputTokens: u.success ? u.data.prompt_tokens : 0, outputTokens: 0 };
    });
  }

  /**
   * Cache by input hash. A hit makes no call, but its recorded usage still counts toward this
   * analysis: `usage` is what the answers this analysis used cost (each paid once, possibly by an
   * earlier attempt that died before reporting), so the ledger's unique key charges it once.
   */
  private async cached<T>(kind: string, model: string, parts: readonly string[], usage: Usage, run: () => Promise<Metered<T>>): Promise<T> {
    const cache = this.opts.cache;
    const key = cacheKey([kind, model, ...parts]);
    const hit = await cache?.get<T>(key).catch(() => undefined);
    const entry = hit ?? (await run());
    usage.calls += 1;
    usage.inputTokens += entry.inputTokens;
    usage.outputTokens += entry.outputTokens;
    // Stored before anything else can fail: the provider was paid for this answer.
    if (!hit) await cache?.put(key, kind, model, entry).catch(() => undefined);
    return hit ? hit.value : entry.value;
  }

  /**
   * One provider request: reserve in the shared limit, run under its own deadline (the SDK's
   * timeout stops at the response headers, so a stalled body would otherwise hang until the
   * activity's timeout), feed the rate-limit headers back, settle the token reservation.
   */
  private async request<T>(
    estimatedTokens: number,
    ms: number,
    outer: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<Metered<T> & { headers: Headers }>,
  ): Promise<Metered<T>> {
    outer?.throwIfAborted();
    const gate = this.opts.gate;
    const reservation: Reservation | undefined = gate ? await gate.acquire(estimatedTokens, outer) : undefined;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, ms);
    const forward = (): void => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    try {
      const out = await run(controller.signal);
      if (gate && reservation) {
        await gate.observe(out.headers, 200);
        await gate.settle(reservation, out.inputTokens + out.outputTokens);
      }
      return { value: out.value, inputTokens: out.inputTokens, outputTokens: out.outputTokens };
    } catch (err) {
      // The caller's cancellation must surface as itself: Temporal reports an activity as
      // cancelled only for its CancelledFailure or an error named AbortError, and the SDK's
      // APIUserAbortError is neither (its name is "Error"), so rethrow the signal's reason.
      // (No instanceof: a DOMException reason may come from another realm, e.g. under Jest.)
      if (outer?.aborted) throw outer.reason ?? err;
      if (timedOut) {
        throw failure(ErrorType.AiUnavailable, `OpenAI request timed out after ${ms} ms`, {
          details: { timeoutMs: ms },
        });
      }
      if (gate && err instanceof APIError && typeof err.status === 'number') {
        await gate.observe(err.headers, err.status, err.status === 429 ? retryDelayMs(err.headers) : undefined);
      }
      throw toAiFailure(err);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    }
  }
}

const MAX_SUMMARY_CHARS = 300;
const MAX_CHAPTERS = 12;
const MAX_PROMPT_TRANSCRIPT_CHARS = 4_000;
const MAX_EMBED_TRANSCRIPT_CHARS = 8_000;
/** OpenAI bills a `detail: low` image at a flat 85 tokens. */
const LOW_DETAIL_IMAGE_TOKENS = 85;
const MAX_TAGS = 8;
const MAX_TAG_CHARS = 40;
const MAX_RETRY_DELAY_MS = 5 * 60_000;

// json_object mode requires the word "JSON" in the messages, or the API answers 400.
const SYSTEM_PROMPT =
  'You describe a video for a search index. You get its title, technical facts and transcript as JSON, ' +
  'and a few keyframes (in time order, times in keyframeTimesSec). ' +
  'Answer with a JSON object only: {"summary": string (at most 300 characters, plain prose about what is ' +
  'seen and said), "tags": string[] (at most 8 short lowercase keywords), "chapters": [{"startSec": number, ' +
  '"title": string}] (in order, at most 12; [] for a short single-scene video)}. Do not invent content you cannot see or hear.';

/** The service answered 2xx but not in the shape we asked for: worth another attempt. */
class MalformedResponse extends Error {
  override readonly name = 'MalformedResponse';
}

const chatSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
});
const analysisSchema = z.object({
  summary: z.string().trim().min(1),
  tags: z.array(z.string()).default([]),
  chapters: z.array(z.object({ startSec: z.coerce.number().finite().min(0), title: z.string().trim().min(1) })).default([]),
});
type AnalysisWords = z.infer<typeof analysisSchema>;
const usageSchema = z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0).optional() });
const transcriptionSchema = z.object({
  text: z.string(),
  usage: z
    .object({ input_tokens: z.number().optional(), output_tokens: z.number().optional(), prompt_tokens: z.number().optional() })
    .optional(),
});
const embeddingSchema = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()).min(1) })).min(1),
});

function parseChatContent(completion: unknown): string {
  const parsed = chatSchema.safeParse(completion);
  const content = parsed.success ? parsed.data.choices[0]?.message.content : null;
  if (!content) throw new MalformedResponse('chat completion has no message content');
  return content;
}

function parseAnalysisJson(content: string): AnalysisWords {
  // Some local models wrap JSON in a Markdown fence even in json_object mode.
  const text = content.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw failure(ErrorType.AiUnavailable, 'OpenAI chat answer is not JSON');
  }
  const parsed = analysisSchema.safeParse(json);
  if (!parsed.success) {
    throw failure(ErrorType.AiUnavailable, 'OpenAI chat answer lacks {summary, tags, chapters}', {
      details: { issues: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`) },
    });
  }
  return parsed.data;
}

function parseEmbedding(res: unknown): number[] {
  const parsed = embeddingSchema.safeParse(res);
  const vector = parsed.success ? parsed.data.data[0]?.embedding : undefined;
  if (!vector) throw new MalformedResponse('embeddings response has no numeric vector');
  return vector;
}

/** Cuts by code point so an emoji is never split into a lone surrogate. */
function truncate(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max
    ? s
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}

function cleanChapters(raw: AnalysisWords['chapters'], durationSec: number): Chapter[] {
  const out: Chapter[] = [];
  for (const c of [...raw].sort((a, b) => a.startSec - b.startSec)) {
    if (Number.isFinite(durationSec) && durationSec > 0 && c.startSec > durationSec) continue;
    if (out.at(-1)?.startSec === c.startSec) continue;
    out.push({ startSec: Math.round(c.startSec * 10) / 10, title: truncate(c.title.replace(/\s+/g, ' '), 80) });
    if (out.length === MAX_CHAPTERS) break;
  }
  return out;
}

function cleanTags(raw: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const t of raw) {
    const tag = Array.from(t.trim().replace(/\s+/g, ' ')).slice(0, MAX_TAG_CHARS).join('').trim();
    const key = tag.toLowerCase();
    if (!tag || seen.has(key)) continue;
    seen.add(key);
    out.push(tag);
    if (out.length === MAX_TAGS) break;
  }
  return out;
}

/**
 * Maps anything the SDK (or our parsing) throws to the shared taxonomy. Messages carry the
 * status and, where safe, the server's reason — never a stack, a cause chain or a key.
 * An abort is returned unchanged: it is cancellation, not an AI failure.
 */
export function toAiFailure(err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof APIUserAbortError || isAbortError(err)) return err;
  if (err instanceof APIConnectionTimeoutError) {
    return failure(ErrorType.AiUnavailable, 'OpenAI request timed out');
  }
  if (err instanceof APIConnectionError) {
    return failure(ErrorType.AiUnavailable, `OpenAI connection failed: ${safeText(err.message)}`);
  }
  if (err instanceof APIError && typeof err.status === 'number') return statusFailure(err, err.status);
  if (err instanceof SyntaxError || err instanceof MalformedResponse) {
    return failure(ErrorType.AiUnavailable, `OpenAI response is malformed: ${safeText(err.message)}`);
  }
  const name = err instanceof Error ? err.name : typeof err;
  const message = err instanceof Error ? `: ${safeText(err.message)}` : '';
  return failure(ErrorType.AiUnavailable, `OpenAI call failed unexpectedly (${name})${message}`);
}

// Duck-typed: DOMException is not an instance of this realm's Error under Jest's sandbox.
function isAbortError(err: unknown): err is Error {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

function statusFailure(err: APIError, status: number): ApplicationFailure {
  const code = typeof err.code === 'string' ? err.code : undefined;
  const details = { status, ...(code ? { code } : {}), ...(err.requestID ? { requestId: err.requestID } : {}) };
  const label = code ? `${status} ${code}` : `${status}`;
  if (status === 429 && code === 'insufficient_quota') {
    // A billing problem dressed as a rate limit: no retry helps until someone adds credit.
    return failure(ErrorType.AiQuotaExhausted, `OpenAI account has no quota left (${label})`, { details });
  }
  if (code === 'content_policy_violation' || code === 'content_filter') {
    return failure(ErrorType.AiContentRejected, `OpenAI refused the content (${label})`, { details });
  }
  if (status === 429) {
    return failure(ErrorType.AiRateLimited, `OpenAI rate limited the request (${label})`, {
      details,
      nextRetryDelayMs: retryDelayMs(err.headers),
    });
  }
  if (status === 401 || status === 403) {
    // Auth errors echo (part of) the key we sent; the status and code are enough.
    return failure(ErrorType.AiRejected, `OpenAI refused our credentials (${label})`, { details });
  }
  // 408/409/425 are "try again" by definition; every other 4xx is our request's fault.
  if (status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 425) {
    return failure(ErrorType.AiRejected, `OpenAI rejected the request (${label}): ${serverReason(err)}`, {
      details,
    });
  }
  return failure(ErrorType.AiUnavailable, `OpenAI is unavailable (${label})`, { details });
}

/** Retry-After as milliseconds (retry-after-ms, or retry-after in seconds or as an HTTP date). */
export function retryDelayMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  let ms: number | undefined;
  const msHeader = headers?.get('retry-after-ms')?.trim();
  const header = headers?.get('retry-after')?.trim();
  if (msHeader && Number.isFinite(Number(msHeader))) ms = Number(msHeader);
  else if (header && Number.isFinite(Number(header))) ms = Number(header) * 1000;
  else if (header && !Number.isNaN(Date.parse(header))) ms = Date.parse(header) - now;
  // A date in the past or a zero says nothing useful: let the retry policy's backoff decide.
  if (ms === undefined || !(ms > 0)) return undefined;
  return Math.min(Math.ceil(ms), MAX_RETRY_DELAY_MS);
}

function serverReason(err: APIError): string {
  const body: unknown = err.error;
  const message =
    typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string' ? body.message : err.message;
  return safeText(message);
}

/** Short, single-line, and with anything key-shaped blanked out. */
function safeText(s: string): string {
  return s
    .replace(/\b(sk|rk|sess)-[A-Za-z0-9_*.-]+/g, '[redacted]')
    .replace(/Bearer\s+\S+/gi, 'Bearer [redacted]')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}
