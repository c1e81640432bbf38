/**
 * A source URL that may expire mid-run. An upload's URL is ours: it is signed again (a local
 * activity with the workflow worker's credentials) before every try. An external URL is not:
 * the run waits for signal `refreshSourceUrl` up to its deadline, then fails SourceUrlExpired
 * through the usual failure path (recorded, dead-lettered). A file path never expires.
 *
 * Deterministic: no I/O, clock or config; activities are imported as types only.
 */
import { ApplicationFailure, condition, upsertMemo } from '@temporalio/workflow';
import type { StorageActivities } from '../activities/storage';
import { ErrorType } from '../errors';
import { localActivity } from './activity-options';
import type { PipelineState, VideoSource } from './contracts';
import { failureOf, MAX_SOURCE_REFRESHES, sourceUrlExpired } from './decisions';

/** Default wait for a new external URL when the starter sends none (SOURCE_REFRESH_DEADLINE_MS's default: inside the run's 24 h TTL). */
export const DEFAULT_SOURCE_REFRESH_DEADLINE_MS = 8 * 3600 * 1000;

/** Holds a URL that arrived by signal until the waiting run takes it. */
export class SourceRefresh {
  private offered: { url: string; sealed?: string } | undefined;

  constructor(
    private readonly state: PipelineState,
    private readonly deadlineMs: number,
  ) {}

  /** The signal handler: taken only while the run waits for it (the API sends it only then). */
  readonly offer = ({ url, sealed }: { url: string; sealed?: string }): void => {
    if (this.state.waitingForSource) this.offered = sealed ? { url, sealed } : { url };
  };

  /** Waits for a new URL up to the deadline; none → a typed, non-retryable SourceUrlExpired. */
  async waitForNewUrl(reason: string, videoId: string): Promise<{ url: string; sealed?: string }> {
    const since = Date.now();
    this.state.waitingForSource = {
      since: new Date(since).toISOString(),
      deadline: new Date(since + this.deadlineMs).toISOString(),
      reason,
    };
    upsertMemo({ sourceStatus: 'waiting_for_source' });
    const got = await condition(() => this.offered !== undefined, this.deadlineMs);
    this.state.waitingForSource = undefined;
    upsertMemo({ sourceStatus: got ? 'refreshed' : 'expired' });
    const url = this.offered;
    this.offered = undefined;
    if (!got || url === undefined) {
      throw ApplicationFailure.create({
        type: ErrorType.SourceUrlExpired,
        nonRetryable: true,
        message: `the source URL expired and no new one arrived within ${Math.round(this.deadlineMs / 1000)} s (POST /videos/${videoId}/refresh-url sends one)`,
      });
    }
    return url;
  }

  /** Runs the media step with a source that is fresh for each try (at most MAX_SOURCE_REFRESHES refreshes). */
  async withFreshSource<T>(videoId: string, source: VideoSource, run: (source: VideoSource) => Promise<T>): Promise<T> {
    const sign = localActivity<StorageActivities, 'signSourceUrl'>('signSourceUrl');
    let current = source;
    for (let refreshes = 0; ; refreshes++) {
      const attempt: VideoSource =
        current.kind === 'upload' ? { kind: 'upload', key: current.key, sealed: await sign({ key: current.key }) } : current;
      try {
        return await run(attempt);
      } catch (err) {
        if (!sourceUrlExpired(err) || refreshes >= MAX_SOURCE_REFRESHES || current.kind === 'file') throw err;
        if (current.kind === 'url') current = { kind: 'url', ...(await this.waitForNewUrl(failureOf(err)?.message ?? 'expired', videoId)) };
      }
    }
  }
}
