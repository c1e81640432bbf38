/**
 * What flows between the workflow, its activities and the API. Payloads carry ids, paths
 * and short text only — never media bytes or long text (history size, 2 MB payload cap).
 *
 * Workflow-safe: types only.
 */
import type { TaskQueues } from '../queues';

/** Versioned union: new kinds are added without breaking replay of recorded histories. */
export type VideoSource =
  | { kind: 'file'; path: string }
  | { kind: 'url'; url: string }
  /** An object in our storage (issue 18). `url` is a short-lived signed GET, added by the workflow for the media step only. */
  | { kind: 'upload'; key: string; url?: string };

export interface ProcessVideoInput {
  readonly version: 1;
  readonly videoId: string;
  readonly source: VideoSource;
  /** Queue names travel in the input: workflow code may not read env or config. */
  readonly queues: TaskQueues;
  /** Heartbeat timeout of the media step, from the starter's config. */
  readonly mediaHeartbeatTimeoutMs?: number;
  /** How long a run whose external URL expired waits for `refreshSourceUrl` (issue 18; default 24 h). */
  readonly sourceRefreshDeadlineMs?: number;
}

export interface MediaFacts {
  durationSec: number;
  width: number;
  height: number;
  videoCodec: string;
  audioCodec: string | null;
  frameRate: number | null;
  sizeBytes: number;
  container: string;
}

export interface TranscodeInput {
  videoId: string;
  source: VideoSource;
}

export interface TranscodeOutput {
  renditionPath: string;
  thumbnailPath: string;
  /** Facts of the source as probed. */
  source: MediaFacts;
  /** Facts of the rendition as probed after encoding (the proof that it is playable). */
  rendition: MediaFacts;
}

export interface AnalyzeInput {
  videoId: string;
  facts: MediaFacts;
  /** A human hint for the analyzer (file name, title). */
  title: string;
}

export interface AnalyzeOutput {
  analyzer: string;
  model: string;
  dim: number;
  /** True when no AI was involved (offline analyzer): shown to people, never hidden. */
  offline: boolean;
  summary: string;
  tags: string[];
  /** The embedding lives in this artifact file, not in the workflow history. */
  embeddingPath: string;
}

export interface IndexInput {
  videoId: string;
  source: VideoSource;
  media: TranscodeOutput;
  analysis: AnalyzeOutput;
}

export interface IndexOutput {
  collection: string;
  indexedAt: string;
}

export interface RecordFailureInput {
  videoId: string;
  source: VideoSource;
  step: PipelineStep;
  errorType: string;
  message: string;
}

export type PipelineStep = 'queued' | 'transcode' | 'analyze' | 'index' | 'done' | 'failed';

export interface StepRecord {
  queue: string;
  startedAt: string;
  finishedAt?: string;
}

/** What the workflow itself knows; the API merges it with describe()'s pending activities. */
export interface PipelineState {
  videoId: string;
  step: PipelineStep;
  steps: Partial<Record<'transcode' | 'analyze' | 'index', StepRecord>>;
  media?: TranscodeOutput;
  analysis?: AnalyzeOutput;
  index?: IndexOutput;
  error?: { type: string; message: string; step: PipelineStep };
  /** Set while the run waits for signal `refreshSourceUrl` (its external URL expired). */
  waitingForSource?: { since: string; deadline: string; reason: string };
}

export type ProcessVideoResult = Required<Pick<PipelineState, 'media' | 'analysis' | 'index'>> & {
  videoId: string;
};

/** Progress an activity reports through its heartbeat details. */
export interface HeartbeatProgress {
  phase: string;
  percent: number;
}
