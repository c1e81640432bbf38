import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { DeadLetterRow, DeadLetterState, DeadLettersRepo } from '../db/dead-letters-repo';
import { displayPath } from '../media/source';
import { activitiesOfStep, STEPS, type StepName } from '../pipeline/catalogue';
import type { ProcessVideoInput } from '../workflows/contracts';
import type { DeadLetterView } from '../contracts/http';
import { withTemporalDeadline } from '../temporal/deadline';
import { AppError, temporalUnavailable } from './errors';
import { withoutServerPaths } from '../security/server-paths';

export interface DeadLetterServiceDeps {
  client: Client;
  deadLetters: DeadLettersRepo;
  ingestDir: string;
  temporalUiUrl: string;
}

export type { DeadLetterView };

export class DeadLetterService {
  readonly repo: DeadLettersRepo;

  constructor(private readonly deps: DeadLetterServiceDeps) {
    this.repo = deps.deadLetters;
  }

  async list(filter: { state?: DeadLetterState; errorType?: string; limit: number; beforeId?: string }): Promise<DeadLetterView[]> {
    return (await this.repo.list(filter)).map((r) => this.view(r));
  }

  async get(id: string): Promise<DeadLetterView> {
    return this.view(await this.mustGet(id));
  }

  async discard(id: string): Promise<DeadLetterView> {
    const row = await this.mustGet(id);
    const done = await this.repo.markDiscarded(id);
    if (!done) throw notOpen(row);
    return this.view(done);
  }

  /**
   * Replays a dead-lettered run by a Temporal reset of that very run to the start of its failed
   * step (resetPoint): the new run (same workflow id) keeps the recorded outputs of the steps
   * before it and re-runs the failed step whole. The Web UI's Reset can do the same by hand.
   */
  async replay(id: string): Promise<DeadLetterView> {
    const row = await this.mustGet(id);
    const runId = row.runId;
    if (!runId)
      throw new AppError('conflict', 'DeadLetterNotReplayable', `dead letter ${id} has no run to reset`, { videoId: row.videoId });
    const claimed = await this.repo.claimReplay(id);
    if (!claimed) throw notOpen(row);
    try {
      // One deadline for the four Temporal calls below: the 503 comes in ~5 s, not ~20 s.
      return await withTemporalDeadline(this.deps.client, () => this.reset(id, { ...row, runId }, claimed));
    } catch (err) {
      await this.repo.reopen(id);
      if (err instanceof AppError) throw err;
      throw temporalUnavailable(`could not reset the run of video ${row.videoId}: ${(err as Error).message}`, {
        videoId: row.videoId,
        hint: 'The dead letter is still open; retry once Temporal is reachable.',
      });
    }
  }

  /** The Temporal half of replay: checks the run is the latest and failed, then resets it. */
  private async reset(id: string, row: DeadLetterRow & { runId: string }, claimed: DeadLetterRow): Promise<DeadLetterView> {
    const handle = this.deps.client.workflow.getHandle(row.workflowId, row.runId);
    const description = await handle.describe();
    // Someone may already have reset it (Web UI): never reset a run that is not the latest.
    const latest = await this.deps.client.workflow.getHandle(row.workflowId).describe();
    if (latest.runId !== row.runId) {
      throw new AppError('conflict', 'DeadLetterNotReplayable', `video ${row.videoId} already has a newer run (${latest.runId})`, {
        videoId: row.videoId,
        hint: 'See the newer run in the Temporal Web UI; discard this dead letter if it is resolved.',
      });
    }
    if (description.status.name !== 'FAILED') {
      throw new AppError(
        'conflict',
        'DeadLetterNotReplayable',
        `run ${row.runId} of video ${row.videoId} is ${description.status.name}, not FAILED`,
        {
          videoId: row.videoId,
          hint: 'Only a failed run is replayed; see the run in the Temporal Web UI.',
        },
      );
    }
    const history = await handle.fetchHistory();
    const eventId = resetPoint(history.events ?? [], row.step);
    // fromObject: the event id is an int64 (Long) on the wire; it converts a plain number.
    const request = temporal.api.workflowservice.v1.ResetWorkflowExecutionRequest.fromObject({
      namespace: this.deps.client.options.namespace,
      workflowExecution: { workflowId: row.workflowId, runId: row.runId },
      reason: `dead-letter replay of ${row.videoId} (${row.errorType})`,
      workflowTaskFinishEventId: eventId,
      requestId: randomUUID(),
    });
    const res: temporal.api.workflowservice.v1.IResetWorkflowExecutionResponse =
      await this.deps.client.workflowService.resetWorkflowExecution(request);
    const updated = await this.repo.setReplayedRun(id, res.runId ?? '');
    return this.view(updated ?? { ...claimed, replayedRunId: res.runId ?? null });
  }

  private async mustGet(id: string): Promise<DeadLetterRow> {
    const row = await this.repo.get(id);
    if (!row)
      throw new AppError('not-found', 'DeadLetterNotFound', `no dead letter with id ${id}`, { hint: 'GET /dead-letters lists them.' });
    return row;
  }

  private view(r: DeadLetterRow): DeadLetterView {
    const ui = `${this.deps.temporalUiUrl}/namespaces/${encodeURIComponent(this.deps.client.options.namespace)}/workflows/${encodeURIComponent(r.workflowId)}`;
    return {
      id: r.id,
      videoId: r.videoId,
      workflowId: r.workflowId,
      runId: r.runId,
      step: r.step,
      errorType: r.errorType,
      message: withoutServerPaths(r.message),
      attempts: r.attempts,
      failures: r.failures,
      state: r.state,
      source: sourceView(r.input, this.deps.ingestDir),
      replayedRunId: r.replayedRunId,
      firstFailedAt: new Date(r.firstFailedAt).toISOString(),
      lastFailedAt: new Date(r.lastFailedAt).toISOString(),
      links: {
        self: `/dead-letters/${r.id}`,
        video: `/videos/${r.videoId}`,
        temporalUi: r.runId ? `${ui}/${r.runId}/history` : ui,
        replayedRun: r.replayedRunId ? `${ui}/${r.replayedRunId}/history` : null,
      },
    };
  }
}

/**
 * The event to reset to: the workflow task that scheduled the failed step's first activity, so
 * the new run re-runs that step from its beginning — its plan too, which records worker settings
 * (e.g. the segment length) — while the steps before it answer from their recorded results.
 * The step's activities come from the catalogue. A step that never scheduled anything (or an
 * unknown step) resets to the first workflow task: the whole run again.
 */
export function resetPoint(events: temporal.api.history.v1.IHistoryEvent[], step: string): number {
  const WFT_COMPLETED = 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED';
  const types: readonly string[] = (STEPS as readonly string[]).includes(step) ? activitiesOfStep(step as StepName) : [];
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled && types.includes(scheduled.activityType?.name ?? '')) return Number(scheduled.workflowTaskCompletedEventId);
    // A local activity of the step (signSourceUrl) is a marker written by the task that ran it.
    const marker = e.markerRecordedEventAttributes;
    if (marker && types.includes(localActivityTypeOf(marker) ?? '')) return Number(marker.workflowTaskCompletedEventId);
  }
  const first = events.find((e) => eventTypeName(e) === WFT_COMPLETED);
  if (!first) throw new AppError('conflict', 'DeadLetterNotReplayable', 'the failed run has no workflow task to reset to');
  return Number(first.eventId);
}

/** The activity type a local-activity marker records (its `data` payload), if it is one. */
function localActivityTypeOf(marker: temporal.api.history.v1.IMarkerRecordedEventAttributes): string | undefined {
  if (marker.markerName !== 'core_local_activity') return undefined;
  const payload = marker.details?.data?.payloads?.[0];
  if (!payload?.data) return undefined;
  try {
    // The SDK core's marker data (json/plain, never encrypted by the payload codec).
    return (JSON.parse(Buffer.from(payload.data).toString('utf8')) as { activity_type?: string }).activity_type;
  } catch {
    return undefined;
  }
}

function eventTypeName(e: temporal.api.history.v1.IHistoryEvent): string {
  // Decoded histories carry the enum as a number; JSON ones as its name.
  const t = e.eventType as unknown;
  if (typeof t === 'string') return t;
  return t === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED ? 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED' : String(t);
}

function sourceView(input: ProcessVideoInput | null, ingestDir: string): DeadLetterView['source'] {
  const source = input?.source;
  if (!source) return null;
  if (source.kind === 'file') return { kind: 'file', path: displayPath(source.path, ingestDir) };
  if (source.kind === 'url') {
    try {
      const u = new URL(source.url);
      return { kind: 'url', url: `${u.origin}${u.pathname}${u.search ? '?…' : ''}` };
    } catch {
      return { kind: 'url' };
    }
  }
  return { kind: (source as { kind: string }).kind };
}

function notOpen(row: DeadLetterRow): AppError {
  return new AppError('conflict', 'DeadLetterNotOpen', `dead letter ${row.id} is ${row.state}, not open`, {
    videoId: row.videoId,
    hint: 'Only open dead letters can be replayed or discarded.',
  });
}
