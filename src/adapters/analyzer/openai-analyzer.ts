import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, toFile } from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import type { OpenAiConfig } from '../../config';
import type { AiCallCharge, AiCallKind } from '../../db/usage-ledger-repo';
import { isDatabaseUnavailable } from '../../db/unavailable';
import { ErrorType, failure } from '../../errors';
import { chunkSegments, normalizeLanguage, type TranscriptSegment } from '../../media/transcript';
import type { AnalysisInputs, Chapter, TranscriptStatus } from '../../workflows/contracts';
import type { Analysis, AnalysisRequest, Analyzer } from './port';
import type { RateLimitGate, Reservation } from './rate-limit-gate';
import { cacheKey, type ResponseCache } from './response-cache';
import { cleanShots } from './shots';
import { truncate } from './truncate';
import { RouteSupport, type FailureVerdict, type RouteState } from './route-support';

export interface OpenAiAnalyzerOptions {
  transcribeModel?: string;
  /** Deadline of one transcription call (longer than chat: it uploads audio). */
  transcribeTimeoutMs?: number;
  maxOutputTokens?: number;
  /** False (AI_TRANSCRIBE=off): never call the transcription route; the audio is marked unavailable. */
  transcribe?: boolean;
  /** The shared rate limit; absent = unlimited (unit tests). */
  gate?: RateLimitGate;
  /** Responses by input hash, and the ledger row of each paid one; absent = no caching, no ledger. */
  cache?: ResponseCache;
  /** Where a paid answer that could not be recorded is reported (default: console.warn). */
  warn?: (message: string) => void;
}

/** How long recording a paid answer waits for an unreachable database (the soak's PostgreSQL restarts last up to ~25 s). */
export const RECORD_RIDES_OUT_MS = 60_000;

/** Bump when the prompt or the answer's schema changes: cached answers of another version are not reused. */
export const PROMPT_VERSION = 'v3-vision-shots';
/** Cached values are raw provider bodies (they were parsed values before): keys of the old format are not reused. */
const CACHE_FORMAT = 'raw-1';
/**
 * Transcriptions are asked for as verbose_json with segment times: a cached plain
 * `{text}` answer of the json format would lose the times, so those keys are not reused.
 */
const TRANSCRIPTION_FORMAT = 'verbose-segments-1';
/** The identical paid chat request is sent at most this many times per video: a bad answer never loops on a paid request. */
const MAX_IDENTICAL_CHAT_REQUESTS = 2;
const MAX_REPAIR_ANSWER_CHARS = 2_000;
/** The ledger's step for every call of the analysis activity. */
const STEP = 'analyze';

type Usage = { inputTokens: number; outputTokens: number; calls: number };
type Metered<T> = { value: T; inputTokens: number; outputTokens: number };
/** What one answer cost, as the provider reported it (estimated where it did not). */
interface Meter {
  inputTokens: number;
  outputTokens: number;
  imageTokens?: number;
  audioSeconds?: number;
}
interface PaidCall<R> {
  kind: AiCallKind;
  model: string;
  key: string;
  videoId: string;
  estimatedTokens: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** Why this call was made (ledger details): 'analysis' or 'repair'. */
  purpose: string;
  send: (signal: AbortSignal) => Promise<{ data: R; response: Response; request_id: string | null }>;
  meter: (data: R) => Meter;
  /**
   * False for a body without what the caller needs (no vector, no text): it is recorded (paid)
   * under a key nobody reads, so a retry asks again instead of reusing it. A chat completion is
   * kept whatever its content says: `describe` bounds and repairs unusable content itself.
   */
  usable?: (data: unknown) => boolean;
}

/**
 * Analyzer backed by any OpenAI-compatible endpoint. It looks at the video: keyframes go to a
 * vision-capable chat model as image parts, the audio to the transcription endpoint (chunked
 * by the media step under the upload limit), and the answer is structured JSON (summary, tags,
 * chapters, and a line on what each keyframe shows: shots) validated with zod. The embedding
 * is computed from summary + tags + transcript.
 *
 * Every provider call: goes through the shared rate limit (reserve, then settle from `usage`),
 * has its own deadline, and fails typed. Every answer that cost money is recorded raw — cache
 * entry and ledger row, keyed by the provider's request id — before it is parsed, so
 * a retry, a re-analysis timer or a re-run reads it back instead of paying again. An unusable chat
 * answer gets one cheaper, text-only repair; the identical image request is sent at most twice per
 * video. Transcription is optional: a provider without the route (learnt once per process) or
 * AI_TRANSCRIBE=off gives an analysis from frames and metadata; a chat model that refuses images
 * (learnt likewise) gets the request without them. Retrying is Temporal's job (it
 * knows the policy and survives restarts), so the SDK's retries are off.
 */
export class OpenAiAnalyzer implements Analyzer {
  readonly name = 'openai';
  readonly offline = false;
  readonly model: string;
  private readonly client: OpenAI;
  private readonly transcribeModel: string;
  private readonly transcribeTimeoutMs: number;
  private readonly maxOutputTokens: number;
  /** OpenAI's gpt-4o transcribe models refuse verbose_json (400); they are asked for json and give one segment per chunk. */
  private readonly verboseTranscripts: boolean;
  /** Per process (one analyzer per worker process): whether the provider has a transcription route. */
  readonly transcription: RouteSupport;
  /** Per process: whether the chat model takes images (text-only models answer 400 to image parts). */
  readonly vision = new RouteSupport();

  constructor(
    private readonly cfg: OpenAiConfig,
    private readonly opts: OpenAiAnalyzerOptions = {},
  ) {
    this.model = cfg.embeddingModel;
    this.transcribeModel = opts.transcribeModel ?? 'whisper-1';
    this.verboseTranscripts = !/^gpt-4o/i.test(this.transcribeModel);
    this.transcribeTimeoutMs = opts.transcribeTimeoutMs ?? Math.max(cfg.timeoutMs, 60_000);
    this.maxOutputTokens = opts.maxOutputTokens ?? 1000;
    this.transcription = new RouteSupport(opts.transcribe === false ? 'absent' : 'unknown');
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
    const heard = await this.transcribeAll(req, usage);
    const transcript = heard.text;
    const timed = { segments: heard.segments, ...(heard.language ? { language: heard.language } : {}) };
    const { words, seen } = await this.describe(req, transcript, usage);
    const summary = truncate(words.summary.trim(), MAX_SUMMARY_CHARS);
    const tags = cleanTags(words.tags);
    const chapters = cleanChapters(words.chapters, req.facts.durationSec);
    // Shots only from an answer to the images: a text-only answer's "shots" would be invented.
    const shots = seen ? cleanShots(words.shots, req.inputs?.keyframes.map((k) => k.atSec) ?? [], req.facts.durationSec) : [];
    // The title goes in too: people search for what they named the file as often as for what is in it.
    const text = [req.title, summary, tags.join(', '), transcript.slice(0, MAX_EMBED_TRANSCRIPT_CHARS)].filter(Boolean).join('\n');
    const raw = await this.paid(
      {
        kind: 'embedding',
        model: this.cfg.embeddingModel,
        key: cacheKey([CACHE_FORMAT, 'embedding', this.cfg.embeddingModel, text]),
        videoId: req.videoId,
        estimatedTokens: Math.ceil(text.length / 4) + 10,
        timeoutMs: this.cfg.timeoutMs,
        signal: req.signal,
        purpose: 'analysis',
        send: (sig) => this.sendEmbedding(text, sig),
        meter: (data) => ({ inputTokens: promptTokens(data), outputTokens: 0 }),
        usable: (data) => embeddingSchema.safeParse(data).success,
      },
      usage,
    );
    const embedding = parseEmbedding(raw);
    return {
      summary,
      tags,
      chapters,
      shots,
      embedding,
      ...(transcript ? { transcript } : {}),
      transcriptStatus: heard.status,
      timedTranscript: timed,
      usage,
    };
  }

  async embedQuery(text: string, signal?: AbortSignal): Promise<number[]> {
    const out = await this.request(Math.ceil(text.length / 4) + 10, this.cfg.timeoutMs, signal, async (sig) => {
      const { data, response } = await this.sendEmbedding(text, sig);
      return { headers: response.headers, value: data, inputTokens: promptTokens(data), outputTokens: 0 };
    });
    return parseEmbedding(out.value);
  }

  private sendEmbedding(input: string, signal: AbortSignal) {
    // Explicit 'float': left unset, the SDK asks for base64 and decodes it, which breaks
    // compatible servers that ignore encoding_format and answer with plain arrays.
    return this.client.embeddings.create({ model: this.cfg.embeddingModel, input, encoding_format: 'float' }, { signal }).withResponse();
  }

  /**
   * Every audio chunk through the transcription route, in order. Each answer's segment times are
   * relative to its chunk; `chunkSegments` puts them on the video's clock (chunk.startSec added).
   * The language is the first one a chunk reports.
   */
  private async transcribeAll(req: AnalysisRequest, usage: Usage): Promise<Heard> {
    const inputs: AnalysisInputs | undefined = req.inputs;
    if (!inputs || inputs.audioChunks.length === 0) return { text: '', status: 'none', segments: [] };
    const parts: string[] = [];
    const segments: TranscriptSegment[] = [];
    let language: string | undefined;
    let heardAll = true;
    for (const chunk of inputs.audioChunks) {
      const heard = await this.transcription.run(async () => {
        const raw = await this.paid(
          {
            kind: 'transcription',
            model: this.transcribeModel,
            key: cacheKey([
              CACHE_FORMAT,
              ...(this.verboseTranscripts ? [TRANSCRIPTION_FORMAT] : []),
              'transcription',
              this.transcribeModel,
              chunk.sha256,
            ]),
            videoId: req.videoId,
            // Whisper bills by audio length, not tokens: reserve a token-ish estimate so the token budget still sees it.
            estimatedTokens: Math.ceil(chunk.durationSec * 10) + 50,
            timeoutMs: this.transcribeTimeoutMs,
            signal: req.signal,
            purpose: 'analysis',
            send: async (sig) => {
              const bytes = await readFile(chunk.path);
              return this.client.audio.transcriptions
                .create(
                  {
                    file: await toFile(bytes, path.basename(chunk.path), { type: 'audio/mpeg' }),
                    model: this.transcribeModel,
                    // Segment times; a server that ignores verbose_json and answers {text} gets one segment per chunk.
                    ...(this.verboseTranscripts
                      ? { response_format: 'verbose_json' as const, timestamp_granularities: ['segment' as const] }
                      : { response_format: 'json' as const }),
                  },
                  { signal: sig },
                )
                .withResponse();
            },
            meter: (data) => transcriptionMeter(data, chunk.durationSec),
            usable: (data) => transcriptionSchema.safeParse(data).success,
          },
          usage,
        );
        const parsed = transcriptionSchema.safeParse(raw);
        if (!parsed.success) throw toAiFailure(new MalformedResponse('transcription response has no text'));
        return parsed.data;
      }, judgeTranscriptionFailure);
      if (heard === undefined) {
        heardAll = false;
        break;
      }
      const text = heard.text.trim();
      if (text) parts.push(text);
      segments.push(...chunkSegments(chunk, heard));
      language ??= normalizeLanguage(heard.language);
    }
    const text = parts.join(' ').replace(/\s+/g, ' ').trim();
    return {
      text,
      status: heardAll ? 'present' : parts.length > 0 ? 'partial' : 'unavailable',
      segments,
      ...(language ? { language } : {}),
    };
  }

  /**
   * The chat step. An answer that is not the JSON asked for is kept (paid, recorded) and gets one
   * text-only repair (no images: the schema, the facts and the bad answer). Still unusable: this
   * attempt stops with AiBadAnswer (the analysis degrades). A later attempt (a re-analysis timer)
   * reads both answers back from the cache and may send the identical image request once more,
   * so the provider is paid for it at most MAX_IDENTICAL_CHAT_REQUESTS times per video.
   */
  private async describe(req: AnalysisRequest, transcript: string, usage: Usage): Promise<{ words: AnalysisWords; seen: boolean }> {
    const keyframes = req.inputs?.keyframes ?? [];
    const userText = JSON.stringify({
      title: req.title,
      facts: req.facts,
      keyframeTimesSec: keyframes.map((k) => k.atSec),
      transcript: transcript ? truncate(transcript, MAX_PROMPT_TRANSCRIPT_CHARS) : null,
      audio: req.inputs?.audio ?? 'unknown',
    });
    const firstKey = cacheKey([CACHE_FORMAT, 'chat', this.cfg.chatModel, PROMPT_VERSION, userText, ...keyframes.map((k) => k.sha256)]);
    let lastIssue = 'no answer';
    for (let n = 0; n < MAX_IDENTICAL_CHAT_REQUESTS; n++) {
      const key = n === 0 ? firstKey : cacheKey([firstKey, 'again', n]);
      const cached = await this.cache()
        ?.get<unknown>(key)
        .catch(() => undefined);
      // An answer cached under this key was bought with the images (the text-only request has a key of its own).
      const sent = cached
        ? { raw: this.reuse(cached, usage), seen: keyframes.length > 0 }
        : await this.sendChatSeeing(req, userText, key, usage);
      const answer = chatContent(sent.raw);
      const words = parseAnalysisWords(answer);
      if (words.ok) return { words: words.value, seen: sent.seen };
      // A repair rewrites the answer to the images: its shots are still about what was seen.
      const repaired = await this.repair(req, userText, answer, usage);
      if (repaired.ok) return { words: repaired.value, seen: sent.seen };
      lastIssue = repaired.issue;
      // Paid for a new answer in this attempt: sending the same request again at once would
      // most likely buy the same answer. The next attempt may (its answer is cached as well).
      if (!cached) break;
    }
    throw failure(ErrorType.AiBadAnswer, `OpenAI chat answer is not the JSON asked for, even after a repair (${lastIssue})`, {
      details: { model: this.cfg.chatModel },
    });
  }

  /**
   * The chat request with the keyframes; when the model refuses image parts (a text-only model,
   * learnt once per process like a missing route), the same request without them: the analysis
   * then comes from the title, facts and transcript. Refusals of content stay terminal.
   */
  private async sendChatSeeing(
    req: AnalysisRequest,
    userText: string,
    key: string,
    usage: Usage,
  ): Promise<{ raw: unknown; seen: boolean }> {
    if ((req.inputs?.keyframes.length ?? 0) > 0) {
      const seen = await this.vision.run(() => this.sendChat(req, userText, key, usage, true), judgeImageRefusal);
      if (seen !== undefined) return { raw: seen, seen: true };
    }
    return { raw: await this.sendChat(req, userText, cacheKey([key, 'text-only']), usage, false), seen: false };
  }

  private async sendChat(req: AnalysisRequest, userText: string, key: string, usage: Usage, withImages: boolean): Promise<unknown> {
    const keyframes = withImages ? (req.inputs?.keyframes ?? []) : [];
    const images = await Promise.all(keyframes.map(async (k) => `data:image/jpeg;base64,${(await readFile(k.path)).toString('base64')}`));
    const estimate =
      Math.ceil((SYSTEM_PROMPT.length + userText.length) / 4) + images.length * LOW_DETAIL_IMAGE_TOKENS + this.maxOutputTokens + 20;
    return this.paid(
      {
        kind: 'chat',
        model: this.cfg.chatModel,
        key,
        videoId: req.videoId,
        estimatedTokens: estimate,
        timeoutMs: this.cfg.timeoutMs,
        signal: req.signal,
        purpose: 'analysis',
        send: (sig) =>
          this.chatJson(
            [
              { role: 'system', content: SYSTEM_PROMPT },
              {
                role: 'user',
                content: [
                  { type: 'text', text: userText },
                  ...images.map((url) => ({ type: 'image_url' as const, image_url: { url, detail: 'low' as const } })),
                ],
              },
            ],
            sig,
          ),
        meter: (data) => ({ ...chatMeter(data, estimate, this.maxOutputTokens), imageTokens: images.length * LOW_DETAIL_IMAGE_TOKENS }),
        usable: isChatCompletion,
      },
      usage,
    );
  }

  /** One text-only re-ask with the schema and the unusable answer: about a tenth of the image request's price. */
  private async repair(
    req: AnalysisRequest,
    userText: string,
    badAnswer: string,
    usage: Usage,
  ): Promise<{ ok: true; value: AnalysisWords } | { ok: false; issue: string }> {
    const previous = truncate(badAnswer, MAX_REPAIR_ANSWER_CHARS) || '(empty)';
    const key = cacheKey([CACHE_FORMAT, 'chat-repair', this.cfg.chatModel, PROMPT_VERSION, userText, previous]);
    const cached = await this.cache()
      ?.get<unknown>(key)
      .catch(() => undefined);
    const estimate =
      Math.ceil((SYSTEM_PROMPT.length + userText.length + previous.length + REPAIR_PROMPT.length) / 4) + this.maxOutputTokens + 30;
    const raw = cached
      ? this.reuse(cached, usage)
      : await this.paid(
          {
            kind: 'chat',
            model: this.cfg.chatModel,
            key,
            videoId: req.videoId,
            estimatedTokens: estimate,
            timeoutMs: this.cfg.timeoutMs,
            signal: req.signal,
            purpose: 'repair',
            send: (sig) =>
              this.chatJson(
                [
                  { role: 'system', content: SYSTEM_PROMPT },
                  { role: 'user', content: userText },
                  { role: 'assistant', content: previous },
                  { role: 'user', content: REPAIR_PROMPT },
                ],
                sig,
              ),
            meter: (data) => chatMeter(data, estimate, this.maxOutputTokens),
            usable: isChatCompletion,
          },
          usage,
        );
    return parseAnalysisWords(chatContent(raw));
  }

  /** The one shape of chat request this analyzer sends: JSON answer, bounded output, no SDK retries. */
  private chatJson(messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[], signal: AbortSignal) {
    return this.client.chat.completions
      .create(
        { model: this.cfg.chatModel, response_format: { type: 'json_object' }, max_tokens: this.maxOutputTokens, messages },
        { signal },
      )
      .withResponse();
  }

  private cache(): ResponseCache | undefined {
    return this.opts.cache;
  }

  /** A cached answer: no call, but it counts toward what this analysis used (paid once, possibly by an earlier attempt). */
  private reuse(entry: Metered<unknown>, usage: Usage): unknown {
    usage.calls += 1;
    usage.inputTokens += entry.inputTokens;
    usage.outputTokens += entry.outputTokens;
    return entry.value;
  }

  /**
   * A paid call, read back from the cache when an earlier attempt already bought it. A new
   * answer is recorded — raw cache entry and ledger row, one transaction — before anyone parses
   * it: whatever it turns out to be, it was paid for.
   */
  private async paid<R>(call: PaidCall<R>, usage: Usage): Promise<unknown> {
    const hit = await this.cache()
      ?.get<unknown>(call.key)
      .catch(() => undefined);
    if (hit) return this.reuse(hit, usage);
    let meter: Meter = { inputTokens: 0, outputTokens: 0 };
    const out = await this.request(call.estimatedTokens, call.timeoutMs, call.signal, async (sig) => {
      const { data, response, request_id } = await call.send(sig);
      meter = call.meter(data);
      return {
        headers: response.headers,
        value: { data, requestId: request_id },
        inputTokens: meter.inputTokens,
        outputTokens: meter.outputTokens,
      };
    });
    const entry = { value: out.value.data as unknown, inputTokens: meter.inputTokens, outputTokens: meter.outputTokens };
    const charge: AiCallCharge = {
      videoId: call.videoId,
      step: STEP,
      kind: call.kind,
      model: call.model,
      // A provider that sends no request id still gets one row per paid answer: it is recorded once, here.
      requestId: out.value.requestId ?? `local-${randomUUID()}`,
      inputTokens: meter.inputTokens,
      outputTokens: meter.outputTokens,
      imageTokens: meter.imageTokens ?? 0,
      audioSeconds: meter.audioSeconds ?? 0,
      details: { purpose: call.purpose },
    };
    const usable = call.usable?.(entry.value) ?? true;
    await this.record(usable ? call.key : cacheKey([call.key, 'unusable', charge.requestId]), call.kind, call.model, entry, charge);
    return this.reuse(entry, usage);
  }

  /**
   * Writes the paid answer and its ledger row. A database that cannot be reached is waited for
   * (up to RECORD_RIDES_OUT_MS, the activity heartbeating meanwhile): giving up would leave a
   * paid request out of the ledger, and the retry that follows would buy the same answer again
   * (a 0.75-s budget lost answers during a 20-s PostgreSQL restart). Any other failure, or a
   * longer outage, is logged loudly and the answer is still used.
   */
  private async record(key: string, kind: string, model: string, entry: Metered<unknown>, charge: AiCallCharge): Promise<void> {
    const cache = this.cache();
    if (!cache) return;
    const until = Date.now() + RECORD_RIDES_OUT_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        await cache.put(key, kind, model, entry, charge);
        return;
      } catch (err) {
        if (!isDatabaseUnavailable(err) || Date.now() >= until) {
          (this.opts.warn ?? console.warn)(
            `paid answer ${charge.requestId} of video ${charge.videoId} could not be recorded: ${(err as Error).message}`,
          );
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** (attempt - 1))));
      }
    }
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

/**
 * A failed transcription: a route the provider lacks (AiUnsupported) is remembered; a 400/403/
 * 415/422 refusal means the same while the route has never worked in this process (servers
 * without it answer so too), and only "not this audio" once it has (the analysis goes on from
 * frames). Content refusals, credentials, outages and rate limits keep their own meaning.
 */
export function judgeTranscriptionFailure(err: unknown, before: RouteState): FailureVerdict {
  if (!(err instanceof ApplicationFailure)) return 'rethrow';
  if (err.type === ErrorType.AiUnsupported) return 'absent';
  const status = (err.details?.[0] as { status?: unknown } | undefined)?.status;
  if (err.type === ErrorType.AiRejected && typeof status === 'number' && CANNOT_TRANSCRIBE.includes(status)) {
    return before === 'present' ? 'skip' : 'absent';
  }
  return 'rethrow';
}
const CANNOT_TRANSCRIBE = [400, 403, 415, 422];

/** A chat request with images refused as a bad request (400/415/422): the model takes no images (or not these). */
export function judgeImageRefusal(err: unknown, before: RouteState): FailureVerdict {
  if (!(err instanceof ApplicationFailure) || err.type !== ErrorType.AiRejected) return 'rethrow';
  const status = (err.details?.[0] as { status?: unknown } | undefined)?.status;
  if (typeof status !== 'number' || !CANNOT_SEE.includes(status)) return 'rethrow';
  return before === 'present' ? 'skip' : 'absent';
}
const CANNOT_SEE = [400, 415, 422];

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
  '"title": string}] (in order, at most 12; [] for a short single-scene video), "shots": [{"atSec": number, "description": string}] ' +
  '(one per keyframe image attached, in time order, atSec from keyframeTimesSec, description at most 160 characters ' +
  'saying plainly what is seen in that frame; [] when no image is attached)}. Do not invent content you cannot see or hear.';

const REPAIR_PROMPT =
  'That answer is not the JSON object asked for. Reply with only the JSON object {"summary", "tags", "chapters", "shots"} ' +
  'described in the instructions, built from your previous answer and the facts above.';

/** The service answered 2xx without the field we need (no text, no vector): worth another attempt. */
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
  // Optional (answers of before them, text-only models); entries are checked one by one in cleanShots.
  shots: z.array(z.unknown()).default([]).catch([]),
});
type AnalysisWords = z.infer<typeof analysisSchema>;
const usageSchema = z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0).optional() });
/** What this analysis heard: the plain text (prompt, embedding) and the timed segments (the transcript artifact). */
interface Heard {
  text: string;
  status: TranscriptStatus;
  segments: TranscriptSegment[];
  language?: string;
}

const transcriptionSchema = z.object({
  text: z.string(),
  // verbose_json: the detected language ('english', or 'en' on some servers), the audio's length and timed segments.
  language: z.string().nullish(),
  duration: z.number().nullish(),
  segments: z
    .array(z.object({ start: z.coerce.number(), end: z.coerce.number(), text: z.string() }))
    .nullish()
    .transform((v) => v ?? undefined),
  usage: z
    .object({
      input_tokens: z.number().optional(),
      output_tokens: z.number().optional(),
      prompt_tokens: z.number().optional(),
      seconds: z.number().optional(),
    })
    .optional(),
});
const embeddingSchema = z.object({
  data: z.array(z.object({ embedding: z.array(z.number()).min(1) })).min(1),
});

/** The answer's text. A body that is no chat completion at all (e.g. text/plain) is a malformed response, not an answer. */
function chatContent(raw: unknown): string {
  const parsed = chatSchema.safeParse(raw);
  if (!parsed.success) throw toAiFailure(new MalformedResponse('chat response is not a chat completion'));
  return parsed.data.choices[0]?.message.content ?? '';
}

const isChatCompletion = (data: unknown): boolean => chatSchema.safeParse(data).success;

function parseAnalysisWords(content: string): { ok: true; value: AnalysisWords } | { ok: false; issue: string } {
  // Some local models wrap JSON in a Markdown fence even in json_object mode.
  const text = content.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  if (!text) return { ok: false, issue: 'empty answer' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, issue: 'not JSON' };
  }
  const parsed = analysisSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      issue: `lacks {summary, tags, chapters}: ${parsed.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .slice(0, 2)
        .join('; ')}`,
    };
  }
  return { ok: true, value: parsed.data };
}

/** Tokens of a chat answer as the provider billed them; our estimate when it did not say. */
function chatMeter(data: unknown, estimate: number, maxOutputTokens: number): Meter {
  const u = usageSchema.safeParse((data as { usage?: unknown } | null)?.usage);
  return u.success
    ? { inputTokens: u.data.prompt_tokens, outputTokens: u.data.completion_tokens ?? 0 }
    : { inputTokens: estimate - maxOutputTokens, outputTokens: maxOutputTokens };
}

function promptTokens(data: unknown): number {
  const u = usageSchema.safeParse((data as { usage?: unknown } | null)?.usage);
  return u.success ? u.data.prompt_tokens : 0;
}

/** whisper-1 bills audio seconds (usage {type: 'duration', seconds}); token-billed models report tokens. */
function transcriptionMeter(data: unknown, chunkSec: number): Meter {
  const u = transcriptionSchema.safeParse(data).data?.usage;
  return {
    inputTokens: u?.input_tokens ?? u?.prompt_tokens ?? 0,
    outputTokens: u?.output_tokens ?? 0,
    // whisper-1's verbose_json carries no usage block, but its `duration` is what it bills.
    audioSeconds: u?.seconds ?? transcriptionSchema.safeParse(data).data?.duration ?? chunkSec,
  };
}

function parseEmbedding(res: unknown): number[] {
  const parsed = embeddingSchema.safeParse(res);
  const vector = parsed.success ? parsed.data.data[0]?.embedding : undefined;
  if (!vector) throw new MalformedResponse('embeddings response has no numeric vector');
  return vector;
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
  if (status === 404 || status === 405 || status === 501) {
    // No such route or model here (many OpenAI-compatible servers implement only some routes).
    return failure(ErrorType.AiUnsupported, `the AI provider does not support this request (${label}): ${serverReason(err)}`, {
      details,
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
