import type { TranscriptSegment } from '../../media/transcript';
import type { AnalysisInputs, Chapter, MediaFacts, Shot, TranscriptStatus } from '../../workflows/contracts';

/**
 * Port: what turns a video's facts into words and a vector. The OpenAI adapter talks to any
 * OpenAI-compatible endpoint; the offline adapter needs nothing and says it is not AI.
 */
export interface AnalysisRequest {
  videoId: string;
  title: string;
  facts: MediaFacts;
  /** Keyframes and audio chunks on disk; without them an analyzer sees facts only. */
  inputs?: AnalysisInputs;
  /** Aborts the underlying request (activity cancellation, worker shutdown). */
  signal?: AbortSignal;
}

export interface Analysis {
  summary: string;
  tags: string[];
  embedding: number[];
  chapters?: Chapter[];
  /** What is seen at each keyframe sent (AI analyzers that were sent images only); bounded by the adapter. */
  shots?: Shot[];
  /** The full transcript (stays out of workflow history: the activity keeps an excerpt). */
  transcript?: string;
  /** Whether the audio was heard (AI analyzers only). */
  transcriptStatus?: TranscriptStatus;
  /** The transcript's segments on the video's clock and its language (ISO 639-1); the activity stores them as an artifact. */
  timedTranscript?: { segments: TranscriptSegment[]; language?: string };
  /** What the provider answers used by this analysis cost (cached answers included); the ledger has each paid request. */
  usage?: { inputTokens: number; outputTokens: number; calls: number };
}

export interface Analyzer {
  /** e.g. "offline", "openai" */
  readonly name: string;
  /** The embedding model; with `name` and the vector length it picks the vector space. */
  readonly model: string;
  /** True when no AI is involved; surfaced to people. */
  readonly offline: boolean;
  analyze(req: AnalysisRequest): Promise<Analysis>;
  /** Embeds a search query into the same space as `analyze`'s embeddings. */
  embedQuery(text: string, signal?: AbortSignal): Promise<number[]>;
}
