import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Pool } from 'pg';
import { DeadLettersRepo, type DeadLetterRow, type DeadLetterState } from '../db/dead-letters-repo';
import { displayPath } from '../media/source';
import { CHECKPOINT_ACTIVITIES } from '../pipeline/catalogue';
import type { ProcessVideoInput } from '../workflows/contracts';
import type { DeadLetterView } from '../contracts/http';
import { HttpError } from './http-error';
import { withoutServerPaths } from '../security/server-paths';

export interface DeadLetterServiceDeps {
  client: Client;
  pool: Pool;
  ingestDir: string;
  temporalUiUrl: string;
}

export type { DeadLetterView };

export class DeadLetterService {
  readonly repo: DeadLettersRepo;

  constructor(private readonly deps: DeadLetterServiceDeps) {
    this.repo = new DeadLettersRepo(deps.pool);
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
   * Replays a dead-lettered run by a Temporal reset of that very run to just after its last
   * succeeded step: the new run (same workflow id) keeps the recorded outputs of the steps that
   * succeeded and re-runs only from the failed one. Works the same from the Web UI's Reset.
   */
  async replay(id: string): Promise<DeadLetterView> {
    const row = await this.mustGet(id);
    if (!row.runId) throw new HttpError(409, 'DeadLetterNotReplayable', `dead letter ${id} has no run to reset`, { videoId: row.videoId });
    const claimed = await this.repo.claimReplay(id);
    if (!claimed) throw notOpen(row);
    try {
      const handle = this.deps.client.workflow.getHandle(row.workflowId, row.runId);
      const description = await handle.describe();
      // Someone may already have reset it (Web UI): never reset a run that is not the latest.
      const latest = await this.deps.client.workflow.getHandle(row.workflowId).describe();
      if (latest.runId !== row.runId) {
        throw new HttpError(409, 'DeadLetterNotReplayable', `video ${row.videoId} already has a newer run (${latest.runId})`, {
          videoId: row.videoId,
          hint: 'See the newer run in the Temporal Web UI; discard this dead letter if it is resolved.',
        });
      }
      if (description.status.name !== 'FAILED') {
        throw new HttpError(
          409,
          'DeadLetterNotReplayable',
          `run ${row.runId} of video ${row.videoId} is ${description.status.name}, not FAILED`,
          {
            videoId: row.videoId,
            hint: 'Only a failed run is replayed; see the run in the Temporal Web UI.',
          },
        );
      }
      const history = await handle.fetchHistory();
      const eventId = resetPoint(history.events ?? []);
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
    } catch (err) {
      await this.repo.reopen(id);
      if (err instanceof HttpError) throw err;
      throw new HttpError(503, 'TemporalUnavailable', `could not reset the run of video ${row.videoId}: ${(err as Error).message}`, {
        videoId: row.videoId,
        hint: 'The dead letter is still open; retry once Temporal is reachable.',
        headers: { 'retry-after': '5' },
      });
    }
  }

  private async mustGet(id: string): Promise<DeadLetterRow> {
    const row = await this.repo.get(id);
    if (!row) throw new HttpError(404, 'DeadLetterNotFound', `no dead letter with id ${id}`, { hint: 'GET /dead-letters lists them.' });
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
 * The event to reset to: the workflow task that completed right after the last succeeded
 * step's ActivityTaskCompleted (so the new run starts from that step's recorded result), or
 * the first workflow task when no step succeeded.
 */
export function resetPoint(events: temporal.api.history.v1.IHistoryEvent[]): number {
  const WFT_COMPLETED = 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED';
  const scheduledType = new Map<string, string>();
  let lastStepDone = 0;
  for (const e of events) {
    const id = Number(e.eventId);
    const s = e.activityTaskScheduledEventAttributes;
    if (s) scheduledType.set(String(id), s.activityType?.name ?? '');
    const c = e.activityTaskCompletedEventAttributes;
    if (c && CHECKPOINT_ACTIVITIES.has(scheduledType.get(String(c.scheduledEventId)) ?? '')) lastStepDone = id;
  }
  const after = events.find((e) => Number(e.eventId) > lastStepDone && eventTypeName(e) === WFT_COMPLETED);
  if (!after) throw new HttpError(409, 'DeadLetterNotReplayable', 'the failed run has no workflow task to reset to');
  return Number(after.eventId);
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

function notOpen(row: DeadLetterRow): HttpError {
  return new HttpError(409, 'DeadLetterNotOpen', `dead letter ${row.id} is ${row.state}, not open`, {
    videoId: row.videoId,
    hint: 'Only open dead letters can be replayed or discarded.',
  });
}
