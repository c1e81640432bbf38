/**
 * What flows between the workflow, its activities and the API. Payloads carry ids, paths
 * and short text only — never media bytes or long text (history size, 2 MB payload cap).
 *
 * Workflow-safe: types only.
 */
import type { StepName, TaskQueues } from '../pipeline/catalogue';

/** Versioned union: new kinds are added without breaking replay of recorded histories. */
export type VideoSource =
  | { kind: 'file'; path: string }
  /**
   * An external URL. With `sealed` (every start since URLs are sealed) `url` is only its redacted display
   * form and `sealed` the full URL sealed under the source-URL key (src/security/sealed-url.ts),
   * which the media worker opens: no history, dead letter or log holds the URL's secrets.
   */
  | { kind: 'url'; url: string; sealed?: string }
  /**
   * An object of ours: the workflow carries the key; before each media try the pipeline worker
   * signs a GET URL and seals it (`sealed`: a signature is a credential until it
   * expires, and history is readable with the payload codec). `url`: a plain signed URL, as runs
   * before the sealing carried.
   */
  | { kind: 'upload'; key: string; url?: string; sealed?: string };

export interface ProcessVideoInput {
  readonly version: 1;
  readonly videoId: string;
  readonly source: VideoSource;
  /** Queue names travel in the input: workflow code may not read env or config. */
  readonly queues: TaskQueues;
  /** Heartbeat timeout of the media step, from the starter's config. */
  readonly mediaHeartbeatTimeoutMs?: number;
  /** How long a run whose external URL expired waits for `refreshSourceUrl` (default 24 h). */
  readonly sourceRefreshDeadlineMs?: number;
  /** Package an HLS ladder after the MP4 (default on; false skips it). */
  readonly hls?: boolean;
  /** Segmented transcode of long videos; `maxParallel` bounds the segments in flight per video (default 4). */
  readonly segmentation?: { readonly maxParallel?: number };
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
  /** The adaptive HLS ladder packaged from the rendition; absent with `hls: false`. */
  hls?: HlsOutput;
  /** Scrub previews cut from the rendition; absent when switched off, failed (a nicety), or before them. */
  storyboard?: StoryboardOutput;
}

/** Activity `generateStoryboard`: thumbnails of the published rendition at a fixed interval. */
export interface StoryboardInput {
  videoId: string;
  renditionPath: string;
  durationSec: number;
  width: number;
  height: number;
}

/** What was published under `media/<videoId>/storyboard/` (the track names its sprite sheets). */
export interface StoryboardOutput {
  /** The WebVTT thumbnail track's name in that folder (written last: it publishes the sheets). */
  track: string;
  intervalSec: number;
  tiles: number;
  sheets: number;
  tileWidth: number;
  tileHeight: number;
}

/** Activity `packageHls`: the ladder is cut from the published MP4 rendition. */
export interface PackageHlsInput {
  videoId: string;
  renditionPath: string;
  segmentSec: number;
}

export interface HlsOutput {
  masterPath: string;
  variants: { name: string; width: number; height: number; bandwidth: number; codecs: string }[];
}

/** One segment of a segmented transcode, [startSec, endSec) of the source. */
export interface SegmentSpan {
  index: number;
  startSec: number;
  endSec: number;
}

export interface PlanTranscodeInput {
  videoId: string;
  source: VideoSource;
}

export interface TranscodePlan {
  /** False: too short to be worth splitting (or already published) — the single-pass `transcode` runs. */
  segmented: boolean;
  /** Target segment length of the config (also the HLS segment length). */
  segmentSec: number;
  /**
   * How many segments the plan has. The spans themselves stay in the work area
   * (`plan.json`): a 4-hour video's list would be ~65 KB in history, and each activity reads its
   * span from there.
   */
  count: number;
  /** Digest of the stored plan: an activity handed a plan that was since re-planned refuses it. */
  planDigest: string;
  /** Probed facts of the source (absent when not segmented). */
  facts?: MediaFacts;
  hasAudio: boolean;
}

/** Activity `prepareMedia`: the whole media step of a short upload in one task, or the plan of a long one. */
export interface PrepareMediaInput {
  videoId: string;
  source: VideoSource;
  /** False skips the HLS ladder. */
  hls: boolean;
}

/** Short (or already published): everything the next steps need. Long: the plan for the segments. */
export type PrepareMediaOutput = ({ segmented: false } & FinishMediaOutput) | { segmented: true; plan: TranscodePlan };

/** Activity `finishMedia`: what follows a published rendition (HLS ladder, analysis inputs, storyboard). */
export interface FinishMediaInput {
  videoId: string;
  media: TranscodeOutput;
  hls: boolean;
  segmentSec: number;
}

export interface FinishMediaOutput {
  media: TranscodeOutput;
  inputs: AnalysisInputs;
}

/** One segment of the stored plan, by position (its span is read from the work area). */
export interface EncodeSegmentInput {
  videoId: string;
  index: number;
  count: number;
  planDigest: string;
}

export interface EncodedSegment {
  index: number;
  /** Seconds of video in the encoded segment (probed). */
  durationSec: number;
  /** True when a verified output of an earlier delivery was returned without encoding. */
  reused: boolean;
}

/** The join checks every segment of the stored plan itself: no per-segment list travels here. */
export interface JoinSegmentsInput {
  videoId: string;
  count: number;
  planDigest: string;
  hasAudio: boolean;
}

export interface AnalyzeInput {
  videoId: string;
  facts: MediaFacts;
  /** A human hint for the analyzer (file name, title). */
  title: string;
  /** Keyframes + audio from the media step. */
  inputs: AnalysisInputs;
}

export interface AnalyzeOutput {
  analyzer: string;
  model: string;
  dim: number;
  /** True when no AI was involved (offline analyzer): shown to people, never hidden. */
  offline: boolean;
  summary: string;
  tags: string[];
  /**
   * The embedding lives in this artifact, not in the workflow history: an object key in the store
   * (`analysis/<videoId>/embedding.<analyzer>.json`), or a local file path in older histories.
   */
  embeddingPath: string;
  // Set by a provider's analysis (absent for the offline analyzer) and by a degraded stand-in.
  /** Chapters the model found (start second + title); absent for the offline analyzer. */
  chapters?: Chapter[];
  /**
   * What the model saw at each keyframe it was sent (at most one per keyframe, in time order);
   * absent for the offline analyzer, a text-only model and histories recorded before them.
   */
  shots?: Shot[];
  /** The first few hundred characters of the transcript (the full text stays on disk). */
  transcriptExcerpt?: string;
  /** Provider usage of this analysis (answers reused from the cache included), for people; the ledger is written per paid request by the AI activity. */
  usage?: { inputTokens: number; outputTokens: number; calls: number };
  /** True when the provider was unavailable and this is a metadata-only stand-in; analysis resumes later. */
  degraded?: boolean;
  /** Whether the analysis heard the audio ('unavailable': the provider cannot transcribe, or AI_TRANSCRIBE=off). */
  transcript?: TranscriptStatus;
  /**
   * The timed transcript (segments, language, status) lives in this artifact, not in history:
   * `analysis/<videoId>/transcript.<analyzer>.json` (a local path without a store). Absent in
   * histories recorded before it, and for the offline analyzer and the degraded stand-in.
   */
  transcriptKey?: string;
}

/**
 * present: every audio chunk transcribed; partial: some were (the provider could not do the rest);
 * unavailable: the audio was not heard (no transcription route, or switched off); none: no audio to hear.
 */
export type TranscriptStatus = 'present' | 'partial' | 'unavailable' | 'none';

export interface Chapter {
  startSec: number;
  title: string;
}

/** One keyframe as the model described it: its second of the video and what is seen (≤ 160 characters). */
export interface Shot {
  atSec: number;
  description: string;
}

/**
 * Keyframes and audio chunks extracted from the rendition for the AI step (keys, paths + digests only).
 * `key`: the input's object in the store (absent in histories recorded before the data plane);
 * `path`: where the extracting host left it, read only when this host has it with the same digest.
 */
export interface AnalysisInputs {
  keyframes: { path: string; key?: string; sha256: string; bytes: number; atSec: number }[];
  /** Empty when the video has no audio track or its audio is silent. */
  audioChunks: { path: string; key?: string; sha256: string; bytes: number; startSec: number; durationSec: number }[];
  /** Why there are no audio chunks, when there are none. */
  audio: 'present' | 'none' | 'silent';
}

export interface AnalysisInputsInput {
  videoId: string;
  renditionPath: string;
  durationSec: number;
  hasAudio: boolean;
}

export interface IndexInput {
  videoId: string;
  source: VideoSource;
  media: TranscodeOutput;
  analysis: AnalyzeOutput;
  /**
   * Whether `analysis` is the real one or a stand-in, kept on the row so delayed videos
   * can be listed and re-analysed after their run ended. Absent: derived from `analysis.degraded`.
   */
  analysisState?: AnalysisState;
}

export type AnalysisState = 'complete' | 'delayed' | 'failed';

/**
 * Workflow `reanalyzeVideo` (id `reanalyze-video-<id>`), started by
 * POST /videos/:id/reanalyze when the video's processVideo run has ended: the analysis inputs
 * are cut again from the published rendition, then analyze + the index saga.
 */
export interface ReanalyzeVideoInput {
  videoId: string;
  source: VideoSource;
  /** The media step's output, as the row kept it. */
  media: TranscodeOutput;
  queues: TaskQueues;
  mediaHeartbeatTimeoutMs?: number;
}

export interface ReanalyzeVideoResult {
  videoId: string;
  /** 'complete': analysed and re-indexed; otherwise the provider is still unavailable (or refused) and the row is unchanged. */
  analysisState: AnalysisState;
  /** The typed failure that kept it from completing. */
  reason?: string;
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
  /** The whole workflow input, kept with the dead letter to show and replay. */
  input: ProcessVideoInput;
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
  steps: Partial<Record<StepName, StepRecord>>;
  media?: TranscodeOutput;
  analysis?: AnalyzeOutput;
  index?: IndexOutput;
  error?: { type: string; message: string; step: PipelineStep };
  /** 'delayed' while the video is ready on a metadata-only stand-in and analysis will be retried. */
  analysisState?: AnalysisState;
  /** Set while the run waits for signal `refreshSourceUrl` (its external URL expired). */
  waitingForSource?: { since: string; deadline: string; reason: string };
  /** A segmented transcode's progress (segments finished of the planned count). */
  segments?: { done: number; count: number };
}

export type ProcessVideoResult = Required<Pick<PipelineState, 'media' | 'analysis' | 'index'>> & {
  videoId: string;
};

/** Progress an activity reports through its heartbeat details. */
export interface HeartbeatProgress {
  phase: string;
  percent: number;
  /** The attempt that sent it: the next attempt reads the last one's details (ctx.info.heartbeatDetails). */
  attempt?: number;
  /** Seconds of output encoded so far (the stall watchdog's position). */
  encodedSec?: number;
  /** Checkpoint of a segmented transcode: segments [0, done) are finished and durable. */
  segment?: { done: number; count: number };
}

/** The reconciler (workflow `reconcileIndex`, started by a Temporal Schedule). */
export interface ReconcileInput {
  queues: TaskQueues;
  pageSize: number;
  /** Pages per run; beyond it the workflow continues as new, so history stays small. */
  maxPagesPerRun: number;
  /** Rows untouched for this long are checked against Temporal for a run that ended. */
  staleAfterMs: number;
  retention: { tmpMs: number; deadLetterInputMs: number };
  /** Schedule whose note shows the last counts (absent when started by hand). */
  scheduleId?: string;
  /** Where a continued run picks up, and what the earlier runs of this pass counted. */
  cursor?: ReconcileCursor;
  totals?: ReconcileCounts;
}

export type ReconcileCursor = { phase: 'rows'; afterId?: string } | { phase: 'points'; spaceIndex: number; cursor?: string };

export interface ReconcileCounts {
  rowsChecked: number;
  pointsChecked: number;
  missingPointsRepaired: number;
  stalePayloadsRepaired: number;
  orphanPointsRemoved: number;
  staleRowsFailed: number;
  unrepairable: number;
  tmpEntriesRemoved: number;
  deadLetterInputsRemoved: number;
  annIndexActions: number;
}

/** DELETE /videos/:id runs this saga (workflow `deleteVideo`). */
export interface DeleteVideoInput {
  videoId: string;
  queues: TaskQueues;
}

export interface DeleteVideoResult {
  videoId: string;
  existed: boolean;
  cancelledRun: boolean;
  filesRemoved: number;
  pointsRemoved: number;
}
