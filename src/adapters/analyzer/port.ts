import type { MediaFacts } from '../../workflows/contracts';

/**
 * Port: what turns a video's facts into words and a vector. The OpenAI adapter talks to any
 * OpenAI-compatible endpoint; the offline adapter needs nothing and says it is not AI.
 */
export interface AnalysisRequest {
  videoId: string;
  title: string;
  facts: MediaFacts;
  /** Aborts the underlying request (activity cancellation, worker shutdown). */
  signal?: AbortSignal;
}

export interface Analysis {
  summary: string;
  tags: string[];
  embedding: number[];
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
