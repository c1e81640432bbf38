import { randomBytes } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { isDeepStrictEqual } from 'node:util';
import type { Pool } from 'pg';
import type { Analyzer } from '../adapters/analyzer/port';
import type { VectorStore } from '../adapters/vector-store/port';
import { VideosRepo, type VideoRow } from '../db/videos-repo';
import type { TaskQueues } from '../queues';
import type { processVideo } from '../workflows';
import type { ProcessVideoInput, VideoSource } from '../workflows/contracts';
import { workflowIdFor } from '../workflows/ids';
import { HttpError } from './http-error';
import type { StartVideoBody } from './schemas';
import { buildStatus, type VideoStatus } from './status';

export interface VideoServiceDeps {
  client: Client;
  pool: Pool;
  analyzer: Analyzer;
  vectorStore: VectorStore;
  queues: TaskQueues;
  ingestDir: string;
  temporalUiUrl: string;
  mediaHeartbeatTimeoutMs: number;
  /** How long POST /videos waits for Temporal to accept a start before answering 503 (default 5 s). */
  startDeadlineMs?: number;
  /** Injected by main.ts (STYLE.md: inject repositories); built from the pool when absent. */
  videos?: VideosRepo;
}

export class VideoService {
  private readonly videos: VideosRepo;

  constructor(private readonly deps: VideoServiceDeps) {
    this.videos = deps.videos ?? new VideosRepo(deps.pool);
  }

  /**
   * Registers the upload and starts its workflow. The unique `videos` row decides new vs.
   * existing (Temporal forgets ids after retention; SDK 1.24's start() cannot tell us), and
   * the start itself is idempotent, so a client retry after a crash between the two steps
   * completes the registration instead of creating a second run.
   */
  async start(body: StartVideoBody): Promise<{ created: boolean; status: VideoStatus }> {
    const videoId = body.videoId ?? generateVideoId();
    const source = await this.normalizeSource(body.source, body.videoId);
    const workflowId = workflowIdFor(videoId);
    const { created, row } = await this.videos.claim(videoId, source, workflowId);
    if (!created && !isDeepStrictEqual(row.source, source)) {
      throw new HttpError(409, 'VideoIdConflict', `video ${videoId} already exists with a different source`, {
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
    const row = await this.videos.get(videoId);
    if (!row) {
      throw new HttpError(404, 'VideoNotFound', `no video with id ${videoId}`, {
        videoId,
        hint: 'Start it with POST /videos first.',
      });
    }
    return this.status(row);
  }

  private status(row: VideoRow): Promise<VideoStatus> {
    const q = this.deps.queues;
    return buildStatus(this.deps.client, row, {
      temporalUiUrl: this.deps.temporalUiUrl,
      stepQueues: { queued: q.media, transcode: q.media, analyze: q.ai, index: q.index },
    });
  }

  private async ensureStarted(videoId: string, source: VideoSource, workflowId: string): Promise<void> {
    const input: ProcessVideoInput = {
      version: 1,
      videoId,
      source,
      queues: this.deps.queues,
      mediaHeartbeatTimeoutMs: this.deps.mediaHeartbeatTimeoutMs,
    };
    try {
      // Bounded: with Temporal down, gRPC keeps retrying for ~20 s; the client gets a 503 sooner.
      await this.deps.client.connection.withDeadline(Date.now() + (this.deps.startDeadlineMs ?? 5_000), () =>
        this.deps.client.workflow.start<typeof processVideo>('processVideo', {
          workflowId,
          taskQueue: this.deps.queues.pipeline,
          args: [input],
          // Running → attach to it; closed → never start a second run for the same upload.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
        }),
      );
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw new HttpError(503, 'TemporalUnavailable', `could not start the workflow for ${videoId}: ${(err as Error).message}`, {
        videoId,
        hint: 'The upload is registered; retry the same request once Temporal is reachable.',
        headers: { 'retry-after': '5' },
      });
    }
  }

  /** File sources must resolve inside the ingest directory (no reading /etc/passwd through the API). */
  private async normalizeSource(source: StartVideoBody['source'], videoId: string | undefined): Promise<VideoSource> {
    if (source.kind === 'url') return { kind: 'url', url: source.url };
    const root = await realpath(this.deps.ingestDir).catch(() => path.resolve(this.deps.ingestDir));
    const candidate = path.resolve(root, source.path);
    const real = await realpath(candidate).catch(() => undefined);
    const inside = (p: string) => p === root || p.startsWith(root + path.sep);
    if (!inside(candidate) || (real !== undefined && !inside(real))) {
      throw new HttpError(400, 'SourceOutsideIngestDir', `file ${source.path} is outside the ingest directory`, {
        videoId,
        hint: `Put the file under ${root} (BIBLIO_INGEST_DIR) and pass a path relative to it.`,
      });
    }
    if (real === undefined) {
      throw new HttpError(422, 'SourceNotFound', `file ${source.path} does not exist in the ingest directory`, {
        videoId,
        hint: `Copy the file into ${root} first.`,
      });
    }
    return { kind: 'file', path: real };
  }
}

function generateVideoId(): string {
  return `v_${randomBytes(9).toString('base64url')}`;
}
