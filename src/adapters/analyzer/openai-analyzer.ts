import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { OpenAiConfig } from '../../config';
import { ErrorType, failure } from '../../errors';
import type { Analysis, AnalysisRequest, Analyzer } from './port';

/**
 * Analyzer backed by any OpenAI-compatible endpoint: one chat completion for the words, one
 * embeddings call for the vector. Retrying is Temporal's job (it knows the policy and
 * survives restarts), so the SDK must fail fast and every failure leaves here typed.
 */
export class OpenAiAnalyzer implements Analyzer {
  readonly name = 'openai';
  readonly offline = false;
  readonly model: string;
  private readonly client: OpenAI;

  constructor(private readonly cfg: OpenAiConfig) {
    this.model = cfg.embeddingModel;
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
      timeout: cfg.timeoutMs,
    });
  }

  async analyze(req: AnalysisRequest): Promise<Analysis> {
    const content = await this.call(req.signal, async (signal) => {
      const completion: unknown = await this.client.chat.completions.create(
        {
          model: this.cfg.chatModel,
          response_format: { type: 'json_object' },
          messages: [
            { role: 'system', content: SYSTEM_PROMPT },
            { role: 'user', content: JSON.stringify({ title: req.title, facts: req.facts }) },
          ],
        },
        { signal },
      );
      return parseChatContent(completion);
    });
    const words = parseAnalysisJson(content);
    const summary = truncate(words.summary.trim(), MAX_SUMMARY_CHARS);
    const tags = cleanTags(words.tags);
    // The title goes in too: people search for what they named the file as often as for what is in it.
    const embedding = await this.embed(`${req.title}\n${summary}\n${tags.join(', ')}`, req.signal);
    return { summary, tags, embedding };
  }

  embedQuery(text: string, signal?: AbortSignal): Promise<number[]> {
    return this.embed(text, signal);
  }

  private embed(input: string, outer: AbortSignal | undefined): Promise<number[]> {
    return this.call(outer, async (signal) => {
      // Explicit 'float': left unset, the SDK asks for base64 and decodes it, which breaks
      // compatible servers that ignore encoding_format and answer with plain arrays.
      const res: unknown = await this.client.embeddings.create(
        { model: this.cfg.embeddingModel, input, encoding_format: 'float' },
        { signal },
      );
      return parseEmbedding(res);
    });
  }

  /**
   * Runs one request under our own deadline as well as the SDK's: the SDK's timeout stops at
   * the response headers, so a server that sends headers and then stalls the body would
   * otherwise hang until Temporal's activity timeout.
   */
  private async call<T>(outer: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ms = this.cfg.timeoutMs;
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
      return await run(controller.signal);
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
      throw toAiFailure(err);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    }
  }
}

const MAX_SUMMARY_CHARS = 300;
const MAX_TAGS = 8;
const MAX_TAG_CHARS = 40;
const MAX_RETRY_DELAY_MS = 5 * 60_000;

// json_object mode requires the word "JSON" in the messages, or the API answers 400.
const SYSTEM_PROMPT =
  'You describe a video for a search index, given its title and technical facts as JSON. ' +
  'Answer with a JSON object only: {"summary": string (at most 300 characters, plain prose), ' +
  '"tags": string[] (at most 8 short lowercase keywords)}. Do not invent content you cannot infer.';

/** The service answered 2xx but not in the shape we asked for: worth another attempt. */
class MalformedResponse extends Error {
  override readonly name = 'MalformedResponse';
}

const chatSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1),
});
const analysisSchema = z.object({ summary: z.string().trim().min(1), tags: z.array(z.string()).default([]) });
const embeddingSchema = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()).min(1) })).min(1),
});

function parseChatContent(completion: unknown): string {
  const parsed = chatSchema.safeParse(completion);
  const content = parsed.success ? parsed.data.choices[0]?.message.content : null;
  if (!content) throw new MalformedResponse('chat completion has no message content');
  return content;
}

function parseAnalysisJson(content: string): { summary: string; tags: string[] } {
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
    throw failure(ErrorType.AiUnavailable, 'OpenAI chat answer lacks {summary, tags}', {
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
