import { randomBytes } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Analyzer } from '../adapters/analyzer/port';
import type { VectorStore } from '../adapters/vector-store/port';
import type { ObjectStorage } from '../adapters/storage/port';
import { SsrfPolicy } from '../net/ssrf-guard';
import { redactUrl, sameStoredSource, storedSource, workflowSource, type StoredSource } from '../net/redact';
import type { UrlSealer } from '../security/sealed-url';
import { checkUploadKey, checkUploadSource, checkUrlSource } from './source-checks';
import type { UploadService } from './upload-service';
import type { VideoRow, VideosRepo } from '../db/videos-repo';
import type { Repositories } from '../db/repositories';
import type { TaskQueues } from '../pipeline/catalogue';
import type { processVideo } from '../workflows';
import type { ProcessVideoInput, VideoSource } from '../workflows/contracts';
import { workflowIdFor } from '../workflows/ids';
import { refreshSourceUrlSignal, statusQuery } from '../workflows/messages';
import { DeletionService } from './deletion-service';
import { SearchService } from './search-service';
import { ReanalysisService } from './reanalysis-service';
import { repairStaleRow } from './stale-row';
import { LastKnownStatus } from './last-known-status';
import { isTemporalUnreachable, temporalDeadlineIn, withTemporalDeadline } from '../temporal/deadline';
import { AppError, temporalUnavailable, VideoUnreadableError } from './errors';
import { isDatabaseUnavailable } from '../db/unavailable';
import { buildStatus, type VideoStatus } from './status';
import { deriveStatus } from './derive-status';
import { factsFromFeed } from './feed-status';
import { recallState, rememberState } from './status-fallbacks';
import { TemporalPulse } from './temporal-pulse';
import type { QueueStatsCache } from '../temporal/queue-stats';

export interface VideoServiceDeps {
  client: Client;
  /** The main database's repositories, built once by the process (src/db/repositories.ts). */
  repos: Repositories;
  analyzer: Analyzer;
  vectorStore: VectorStore;
  queues: TaskQueues;
  ingestDir: string;
  temporalUiUrl: string;
  mediaHeartbeatTimeoutMs: number;
  /** The gRPC deadline of POST /videos' start before it answers 503 (default TEMPORAL_DEADLINE_MS in temporal/deadline.ts: the answer comes in ~5 s). */
  startDeadlineMs?: number;
  /** The run's TTL (workflow execution timeout; 0 = none), and cached queue facts for status. */
  workflowExecutionTimeoutMs?: number;
  queueStats?: QueueStatsCache;
  /** Where uploads live; which private hosts URL sources may reach (default none). */
  storage?: ObjectStorage;
  ssrf?: SsrfPolicy;
  sourceRefreshDeadlineMs?: number;
  /** How long DELETE waits for the deletion saga before answering 202 (default 5 s). */
  deleteWaitMs?: number;
  /** Seals URL sources for the media worker: the workflow input never holds a URL's secrets. */
  sealer: UrlSealer;
}

/** What POST /videos asks for, validated at the edge (src/api/schemas.ts). */
export interface StartVideoRequest {
  videoId?: string;
  source: { kind: 'file'; path: string } | { kind: 'url'; url: string } | { kind: 'upload'; key: string };
}

/** Who is starting a video, and the uploads they may start it from. */
export interface StartContext {
  caller?: string;
  uploads?: Pick<UploadService, 'claimForVideo'>;
}

export class VideoService {
  private readonly videos: VideosRepo;
  /** What GET /videos/:id answers (as `lastKnown`, stale) while the main database is down. */
  private readonly lastKnown = new LastKnownStatus();
  /** Whether Temporal answered lately: the row-fed status document needs it (feed-status.ts). */
  private readonly pulse: TemporalPulse;
  /** GET /search: only fully indexed, not deleted videos. */
  readonly searcher: SearchService;
  /** DELETE /videos/:id: the deletion saga. */
  readonly deletion: DeletionService;
  /** POST /videos/:id/reanalyze. */
  readonly reanalysis: ReanalysisService;

  constructor(private readonly deps: VideoServiceDeps) {
    this.videos = deps.repos.videos;
    this.pulse = new TemporalPulse(deps.client);
    this.searcher = new SearchService({
      videoIndex: deps.repos.videoIndex,
      textSearch: deps.repos.textSearch,
      analyzer: deps.analyzer,
      vectorStore: deps.vectorStore,
    });
    this.deletion = new DeletionService({
      client: deps.client,
      videoIndex: deps.repos.videoIndex,
      queues: deps.queues,
      waitMs: deps.deleteWaitMs,
      startDeadlineMs: deps.startDeadlineMs,
    });
    this.reanalysis = new ReanalysisService({
      client: deps.client,
      videos: deps.repos.videos,
      queues: deps.queues,
      mediaHeartbeatTimeoutMs: deps.mediaHeartbeatTimeoutMs,
      deadlineMs: deps.startDeadlineMs,
    });
  }

  /** The repositories it was given: the API's routes (keys, uploads) use the same ones. */
  get repos(): Repositories {
    return this.deps.repos;
  }

  /**
   * Registers the upload and starts its workflow. The unique `videos` row decides new vs.
   * existing (Temporal forgets ids after retention; SDK 1.24's start() cannot tell us), and
   * the start itself is idempotent, so a client retry after a crash between the two steps
   * completes the registration instead of creating a second run.
   */
  async start(body: StartVideoRequest, ctx: StartContext = {}): Promise<{ created: boolean; status: VideoStatus }> {
    // An upload names its video: only the caller's own completed upload, for the id it was opened for.
    const uploadVideoId = body.source.kind === 'upload' ? await this.claimUpload(body.source.key, body.videoId, ctx) : undefined;
    const videoId = uploadVideoId ?? body.videoId ?? generateVideoId();
    const plain = await this.normalizeSource(body.source, videoId);
    const source = this.seal(plain);
    const workflowId = workflowIdFor(videoId);
    // The fingerprint is of the full URL; the sealed form rides along for the start outbox.
    const stored: StoredSource = { ...storedSource(plain), ...(source.kind === 'url' && source.sealed ? { sealed: source.sealed } : {}) };
    const { created, row } = await this.videos.claim(videoId, stored, workflowId);
    if (!created && !sameStoredSource(row.source, storedSource(stored))) {
      throw new AppError('conflict', 'VideoIdConflict', `video ${videoId} already exists with a different source`, {
        videoId,
        hint: 'Use a new videoId for a different file, or omit videoId to have one generated.',
      });
    }
    // A finished upload is never processed again, even after Temporal's retention has
    // forgotten its workflow id (only the row remembers it then). A row still 'queued' is an
    // upload whose start did not happen (503, crash): starting it now completes it.
    if (created || row.status === 'queued') await this.ensureStarted(videoId, source, workflowId);
    return { created, status: await this.status(row) };
  }

  async get(videoId: string): Promise<VideoStatus> {
    const row = await this.videos.get(videoId).catch((err: unknown) => {
      if (!isDatabaseUnavailable(err)) throw err;
      throw new VideoUnreadableError(
        `the main database is unreachable: cannot read video ${videoId} now`,
        videoId,
        this.lastKnown.recall(videoId),
      );
    });
    if (!row) {
      this.lastKnown.forget(videoId);
      throw new AppError('not-found', 'VideoNotFound', `no video with id ${videoId}`, {
        videoId,
        hint: 'Start it with POST /videos first.',
      });
    }
    return this.status(row);
  }

  private async status(row: VideoRow): Promise<VideoStatus> {
    const fed = await this.statusFromFeed(row);
    if (fed) {
      this.lastKnown.remember(fed);
      return fed;
    }
    const status = await buildStatus(this.deps.client, row, {
      temporalUiUrl: this.deps.temporalUiUrl,
      queues: this.deps.queues,
      queueStats: this.deps.queueStats,
    });
    if (status.temporalReachable) this.pulse.saw();
    await repairStaleRow(this.videos, row, status);
    this.lastKnown.remember(status);
    return status;
  }

  /**
   * A running upload's document from what its workers wrote, without a query or describe (a watcher
   * polling twice a second costs Temporal nothing); undefined when only Temporal can tell (feed-status.ts).
   */
  private async statusFromFeed(row: VideoRow): Promise<VideoStatus | undefined> {
    if (row.status !== 'queued') return undefined;
    const feed = await this.deps.repos.videoProgress.get(row.id).catch(() => undefined);
    const facts = factsFromFeed(row, feed, {
      now: Date.now(),
      temporalUp: this.pulse.up(),
      lastKnown: recallState(row.id),
      workflowQueue: this.deps.queues.pipeline,
      temporalUiUrl: this.deps.temporalUiUrl,
      namespace: this.deps.client.options.namespace,
    });
    if (!facts) return undefined;
    const status = deriveStatus(facts);
    rememberState(row.id, { status: status.status, step: status.step, workflowStatus: status.workflowStatus, runId: status.runId });
    return status;
  }

  /**
   * POST /videos/:id/refresh-url: hands a run that waits for a new URL of its external source
   * (status waiting_for_source) the new one, checked against the SSRF policy first and sealed
   * for the media worker like the start's. Answers the status document after the signal.
   */
  async refreshSourceUrl(videoId: string, url: string): Promise<VideoStatus> {
    const row = await this.videos.get(videoId);
    if (!row) throw new AppError('not-found', 'VideoNotFound', `no video with id ${videoId}`, { videoId });
    if (row.source.kind !== 'url') {
      throw new AppError(
        'conflict',
        'NotAnExternalSource',
        `video ${videoId} is not a URL source; its URL is refreshed by the workflow itself`,
        {
          videoId,
        },
      );
    }
    await checkUrlSource(url, this.deps.ssrf ?? new SsrfPolicy(), videoId);
    const { client } = this.deps;
    const handle = client.workflow.getHandle(row.workflowId);
    // One deadline for the query and the signal; unreachable → 503, not a misleading 409.
    const deadlineAt = temporalDeadlineIn();
    const unreachable = (err: unknown) => {
      if (!isTemporalUnreachable(err)) return undefined;
      throw temporalUnavailable(`could not reach the run of video ${videoId}: ${(err as Error).message}`, { videoId });
    };
    const state = await withTemporalDeadline(client, () => handle.query(statusQuery), deadlineAt).catch(unreachable);
    if (!state?.waitingForSource) {
      throw new AppError('conflict', 'NotWaitingForSource', `video ${videoId} is not waiting for a new source URL`, {
        videoId,
        hint: 'Only a run whose status is waiting_for_source takes a new URL.',
      });
    }
    const offer = { url: redactUrl(url), sealed: this.deps.sealer.seal(url) };
    await withTemporalDeadline(client, () => handle.signal(refreshSourceUrlSignal, offer), deadlineAt).catch((err: unknown) => {
      unreachable(err);
      throw err;
    });
    return this.get(videoId);
  }

  /** Public for the start outbox (start-outbox.ts), which resumes starts answered 503. */
  async ensureStarted(videoId: string, source: StoredSource, workflowId: string): Promise<void> {
    const input: ProcessVideoInput = {
      version: 1,
      videoId,
      source: workflowSource(source),
      queues: this.deps.queues,
      mediaHeartbeatTimeoutMs: this.deps.mediaHeartbeatTimeoutMs,
      sourceRefreshDeadlineMs: this.deps.sourceRefreshDeadlineMs,
    };
    try {
      // Bounded (temporal/deadline.ts): with Temporal down the client gets its 503 in ~5 s, not ~20 s.
      await withTemporalDeadline(
        this.deps.client,
        () =>
          this.deps.client.workflow.start<typeof processVideo>('processVideo', {
            workflowId,
            taskQueue: this.deps.queues.pipeline,
            args: [input],
            // Running → attach to it; closed → never start a second run for the same upload.
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            ...(this.deps.workflowExecutionTimeoutMs ? { workflowExecutionTimeout: this.deps.workflowExecutionTimeoutMs } : {}),
          }),
        temporalDeadlineIn(this.deps.startDeadlineMs),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return this.markStarted(videoId);
      throw temporalUnavailable(`could not start the workflow for ${videoId}: ${(err as Error).message}`, {
        videoId,
        hint: 'The upload is registered and starts by itself once Temporal is reachable; retrying the same request is safe too.',
      });
    }
    await this.markStarted(videoId);
  }

  /** The start is in Temporal now: take the row out of the start outbox. */
  private markStarted(videoId: string): Promise<void> {
    return this.deps.repos.startOutbox.markStarted(videoId);
  }

  private async claimUpload(key: string, videoId: string | undefined, ctx: StartContext): Promise<string> {
    checkUploadKey(key, videoId);
    if (!ctx.uploads || !ctx.caller) {
      throw new AppError('invalid', 'InvalidKey', 'this API takes no uploads', { videoId, hint: 'Submit a URL or a file source.' });
    }
    return ctx.uploads.claimForVideo(key, ctx.caller, videoId);
  }

  /** A URL source as the workflow carries it: its redacted display form and the sealed full URL. */
  private seal(source: VideoSource): VideoSource {
    if (source.kind !== 'url' || source.sealed) return source;
    return { kind: 'url', url: redactUrl(source.url), sealed: this.deps.sealer.seal(source.url) };
  }

  /** File sources must resolve inside the ingest directory (no reading /etc/passwd through the API). */
  private async normalizeSource(source: StartVideoRequest['source'], videoId: string | undefined): Promise<VideoSource> {
    if (source.kind === 'url') {
      await checkUrlSource(source.url, this.deps.ssrf ?? new SsrfPolicy(), videoId);
      return { kind: 'url', url: source.url };
    }
    if (source.kind === 'upload') {
      await checkUploadSource(source.key, this.deps.storage, videoId);
      return { kind: 'upload', key: source.key };
    }
    const root = await realpath(this.deps.ingestDir).catch(() => path.resolve(this.deps.ingestDir));
    const candidate = path.resolve(root, source.path);
    const real = await realpath(candidate).catch(() => undefined);
    const inside = (p: string) => p === root || p.startsWith(root + path.sep);
    if (!inside(candidate) || (real !== undefined && !inside(real))) {
      throw new AppError('invalid', 'SourceOutsideIngestDir', `file ${source.path} is outside the ingest directory`, {
        videoId,
        hint: 'Put the file in the ingest directory (BIBLIO_INGEST_DIR) and pass a path relative to it.',
      });
    }
    if (real === undefined) {
      throw new AppError('unprocessable', 'SourceNotFound', `file ${source.path} does not exist in the ingest directory`, {
        videoId,
        hint: 'Copy the file into the ingest directory (BIBLIO_INGEST_DIR) first.',
      });
    }
    // A directory, FIFO or device would only fail later, inside the transcode.
    if (!(await stat(real).catch(() => undefined))?.isFile()) {
      throw new AppError('unprocessable', 'SourceNotRegularFile', `${source.path} is not a regular file`, {
        videoId,
        hint: 'Pass the path of a video file (not a directory, FIFO or device) relative to the ingest directory.',
      });
    }
    return { kind: 'file', path: real };
  }
}

function generateVideoId(): string {
  return `v_${randomBytes(9).toString('base64url')}`;
}
