import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fullJitterDelayMs, type BackoffPolicy } from '../../adapters/analyzer/backoff';
import { OfflineAnalyzer } from '../../adapters/analyzer/offline-analyzer';
import type { Analysis, Analyzer } from '../../adapters/analyzer/port';
import { putEmbeddingArtifact, writeEmbeddingArtifact } from '../../artifacts/embedding-artifact';
import { saveTranscriptArtifact } from '../../artifacts/transcript-artifact';
import type { ObjectStorage } from '../../adapters/storage/port';
import type { DeferralCauses } from '../../db/ai-deferrals-repo';
import { ErrorType, failure } from '../../errors';
import { snapChapters } from '../../media/chapters';
import type { AnalyzeInput, AnalyzeOutput } from '../../workflows/contracts';
import { delayedSummary } from './degraded';
import { resolveAnalysisInputs } from './resolve-inputs';

export interface AiDeps {
  analyzer: Analyzer;
  /** Scratch: inputs fetched from the store live here for one attempt; without a store, the embedding artifact. */
  artifactsDir: string;
  /** The data plane: the inputs are fetched from it and the embedding artifact written to it. */
  storage?: ObjectStorage;
  /** Where a deferral's real cause is kept for the stand-in's summary; absent = the generic wording. */
  deferrals?: DeferralCauses;
  /** Retry spacing and degradation. */
  resilience: {
    backoff: BackoffPolicy;
    /** After this long unavailable (since the first attempt), a degradable analysis gives up with AiDeferred. */
    degradeAfterMs: number;
    /** When the workflow tries again after degrading (durable timers). */
    reanalyzeDelaysMs: number[];
  };
}

/** Retryable AI failures: worth another attempt after a backoff. */
const TRANSIENT: readonly string[] = [ErrorType.AiRateLimited, ErrorType.AiUnavailable];
const TRANSCRIPT_EXCERPT_CHARS = 280;

export function createAiActivities(deps: AiDeps) {
  const offline = new OfflineAnalyzer();

  async function finish(
    input: AnalyzeInput,
    analyzer: Pick<Analyzer, 'name' | 'model' | 'offline'>,
    result: Awaited<ReturnType<Analyzer['analyze']>>,
    degraded: boolean,
  ): Promise<AnalyzeOutput> {
    const artifact = { videoId: input.videoId, analyzer: analyzer.name, model: analyzer.model, vector: result.embedding };
    let embeddingPath: string;
    if (deps.storage) {
      try {
        embeddingPath = await putEmbeddingArtifact(deps.storage, artifact);
      } catch (err) {
        throw failure(ErrorType.StorageUnavailable, `could not store the embedding of video ${input.videoId}: ${(err as Error).message}`);
      }
    } else {
      embeddingPath = await writeEmbeddingArtifact(deps.artifactsDir, artifact);
    }
    // Chapter starts onto the scene cuts the keyframes were picked at, inside the video.
    const chapters = snapChapters(
      result.chapters,
      input.inputs.keyframes.map((k) => k.atSec),
      input.facts.durationSec,
    );
    const transcriptKey = await storeTranscript(input.videoId, analyzer.name, result);
    return {
      analyzer: analyzer.name,
      model: analyzer.model,
      dim: result.embedding.length,
      offline: analyzer.offline,
      summary: result.summary,
      tags: result.tags,
      embeddingPath,
      ...(result.chapters ? { chapters } : {}),
      // A few short lines (one per keyframe, ≤ 160 characters): small enough for history, like chapters.
      ...(result.shots?.length ? { shots: result.shots } : {}),
      ...(result.transcript ? { transcriptExcerpt: excerpt(result.transcript) } : {}),
      ...(result.usage ? { usage: result.usage } : {}),
      ...(degraded ? { degraded: true } : {}),
      ...(result.transcriptStatus ? { transcript: result.transcriptStatus } : {}),
      ...(transcriptKey ? { transcriptKey } : {}),
    };
  }

  /** The timed transcript of an AI analysis, as an artifact (history carries its key only). */
  async function storeTranscript(videoId: string, analyzer: string, result: Analysis): Promise<string | undefined> {
    if (!result.transcriptStatus || !result.timedTranscript) return undefined;
    const { segments, language } = result.timedTranscript;
    const artifact = { videoId, analyzer, status: result.transcriptStatus, segments, ...(language ? { language } : {}) };
    try {
      return await saveTranscriptArtifact(deps.storage, deps.artifactsDir, artifact);
    } catch (err) {
      throw failure(ErrorType.StorageUnavailable, `could not store the transcript of video ${videoId}: ${(err as Error).message}`);
    }
  }

  return {
    /** Summary, tags, chapters, keyframe descriptions and an embedding for one video; the embedding goes to an artifact file. */
    async analyze(input: AnalyzeInput & { degradable?: boolean }): Promise<AnalyzeOutput> {
      const ctx = Context.current();
      // Heartbeats while provider calls run, so a dead worker is noticed at the heartbeat timeout
      // (seconds), not at the start-to-close timeout (minutes). None at the start: the timeout
      // counts from it anyway, and an answer within 2 s then costs the server no heartbeat RPC.
      const beat = setInterval(() => ctx.heartbeat({ phase: 'analyze', percent: 50 }), 2_000);
      // Fetched inputs are this attempt's scratch: removed when it ends, whatever happens.
      const cacheDir = path.join(deps.artifactsDir, '.ai-inputs', `${input.videoId}.a${ctx.info.attempt}`);
      let result;
      try {
        const inputs = await resolveAnalysisInputs(input.videoId, input.inputs, {
          storage: deps.storage,
          cacheDir,
          signal: ctx.cancellationSignal,
        });
        result = await deps.analyzer.analyze({
          videoId: input.videoId,
          title: input.title,
          facts: input.facts,
          inputs,
          signal: ctx.cancellationSignal,
        });
      } catch (err) {
        const decided = retryDecision(err, input.degradable === true, deps.resilience);
        if (decided instanceof ApplicationFailure && decided.type === ErrorType.AiDeferred && err instanceof ApplicationFailure) {
          // Best effort: without it the stand-in only says "unavailable", which is still true enough.
          await deps.deferrals?.record(input.videoId, err.type ?? ErrorType.AiUnavailable, err.message).catch(() => undefined);
        }
        throw decided;
      } finally {
        clearInterval(beat);
        await rm(cacheDir, { recursive: true, force: true });
      }
      const out = await finish(input, deps.analyzer, result, false);
      ctx.heartbeat({ phase: 'analyze', percent: 100 });
      ctx.log.info('analyzed', {
        videoId: input.videoId,
        analyzer: deps.analyzer.name,
        model: deps.analyzer.model,
        dim: out.dim,
        keyframes: input.inputs.keyframes.length,
        audioChunks: input.inputs.audioChunks.length,
        transcript: result.transcriptStatus,
        usage: result.usage,
      });
      return out;
    },

    /**
     * The stand-in when the provider is unavailable (or refused the content): indexed from the
     * video's metadata with the offline analyzer, and saying so in its summary and tags.
     */
    async analyzeDegraded(input: AnalyzeInput & { reason: string }): Promise<AnalyzeOutput> {
      const result = await offline.analyze({ videoId: input.videoId, title: input.title, facts: input.facts });
      const refused = input.reason === ErrorType.AiContentRejected;
      // The workflow passes AiDeferred; the analyze activity recorded what lay behind it.
      const cause =
        input.reason === ErrorType.AiDeferred ? await deps.deferrals?.causeOf(input.videoId).catch(() => undefined) : input.reason;
      const words = {
        ...result,
        summary: delayedSummary(result.summary, cause),
        tags: [refused ? 'analysis-refused' : 'analysis-delayed', ...result.tags],
      };
      Context.current().log.warn('indexed without AI analysis', { videoId: input.videoId, reason: input.reason, cause });
      return finish(input, offline, words, true);
    },
  };
}

/**
 * What Temporal should do with a failed analysis: transient failures come back with a full-
 * jitter delay never shorter than the provider's Retry-After; once the provider has been
 * unavailable for longer than the bounded wait (or the account is out of quota), a degradable
 * analysis stops with AiDeferred so the workflow can make the video ready without AI.
 */
export function retryDecision(err: unknown, degradable: boolean, r: AiDeps['resilience'], now = Date.now()): unknown {
  if (!(err instanceof ApplicationFailure) || !err.type) return err;
  const info = Context.current().info;
  const deferred = (why: string) =>
    failure(ErrorType.AiDeferred, `AI analysis deferred: ${why}; the video is indexed from its metadata and analysed again later`, {
      details: { cause: err.type, reanalyzeDelaysMs: r.reanalyzeDelaysMs },
    });
  if (err.type === ErrorType.AiQuotaExhausted) return degradable ? deferred('the AI account is out of quota') : err;
  // The provider cannot do this (no such route or model) or keeps answering unusably: no retry
  // helps now, but a fixed provider or a later answer may, so degrade rather than dead-letter.
  if (err.type === ErrorType.AiUnsupported) return degradable ? deferred('the AI provider does not support this analysis') : err;
  if (err.type === ErrorType.AiBadAnswer) return degradable ? deferred("the AI service's answer was not usable") : err;
  // A re-analysis cuts the inputs again from the published rendition: degrade now, retry later.
  if (err.type === ErrorType.AnalysisInputsMissing) return degradable ? deferred('the analysis inputs are gone') : err;
  if (!TRANSIENT.includes(err.type)) return err;
  const retryAfter = typeof err.nextRetryDelay === 'number' ? err.nextRetryDelay : undefined;
  const delay = fullJitterDelayMs(info.attempt, r.backoff, retryAfter);
  if (degradable && now + delay - info.scheduledTimestampMs > r.degradeAfterMs) {
    return deferred(`the AI service has been unavailable for ${Math.round((now - info.scheduledTimestampMs) / 1000)} s`);
  }
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: false,
    details: err.details ?? undefined,
    nextRetryDelay: delay,
  });
}

function excerpt(text: string): string {
  const chars = Array.from(text);
  return chars.length <= TRANSCRIPT_EXCERPT_CHARS
    ? text
    : `${chars
        .slice(0, TRANSCRIPT_EXCERPT_CHARS - 1)
        .join('')
        .trimEnd()}…`;
}

export type AiActivities = ReturnType<typeof createAiActivities>;
