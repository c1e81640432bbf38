// The parts of `npm run bench` that need the product's stack (the API process, the four worker
// processes on the product's defaults, a Temporal dev server): transcode vs bare ffmpeg, an
// upload vs its steps run directly, a batch of uploads vs the same work run bare, and a media
// worker killed mid-encode. Each returns raw figures; bench/all/render.ts writes them up.
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ChildProcess } from 'node:child_process';
import { loadConfig } from '../../src/config';
import { stepOfActivity } from '../../src/pipeline/catalogue';
import { workflowIdFor } from '../../src/workflows/ids';
import type { HeartbeatProgress } from '../../src/workflows/contracts';
import type { HttpStack } from '../../test/support/http-stack';
import { mediaStepPartsOf } from '../../test/support/workers';
import { activityRuns, epochMs, type ActivityRun } from '../../test/support/segment-history';
import { bareEncodeMs } from '../long-video';
import type { DirectRun, DirectSteps } from './direct-steps';
import type { BatchResult, KillResult, UploadRun } from './render';

/** An activity of the upload's media step (the catalogue's transcode step: what the direct baseline runs). */
const isMedia = (r: ActivityRun): boolean => stepOfActivity(r.type) === 'transcode';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(stack: HttpStack, videoId: string, clipName: string): Promise<void> {
  const res = await fetch(`${stack.apiUrl}/videos`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ videoId, source: { kind: 'file', path: clipName } }),
  });
  if (!res.ok) throw new Error(`POST /videos ${videoId}: ${res.status} ${await res.text()}`);
}

/** Start and close of a run (server clock), once it has closed; a run that did not complete is an error. */
async function completed(stack: HttpStack, videoId: string, timeoutMs = 600_000): Promise<{ startMs: number; closeMs: number }> {
  const handle = stack.env.client.workflow.getHandle(workflowIdFor(videoId));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await handle.describe();
    if (d.status.name === 'COMPLETED') return { startMs: d.startTime.getTime(), closeMs: d.closeTime!.getTime() };
    if (d.status.name !== 'RUNNING') throw new Error(`${videoId} ended ${d.status.name}`);
    if (Date.now() > deadline) throw new Error(`${videoId} still running after ${timeoutMs / 1000} s`);
    await sleep(1_000);
  }
}

/** What one finished upload's history says: run wall, each activity's own time. */
export async function uploadRun(stack: HttpStack, videoId: string): Promise<UploadRun> {
  const { startMs, closeMs } = await completed(stack, videoId);
  const runs = await activityRuns(stack.env.client, workflowIdFor(videoId));
  const own = (r: ActivityRun) => (r.closedMs ?? NaN) - (r.startedMs ?? NaN);
  const sum = (rs: ActivityRun[]) => rs.reduce((a, r) => a + own(r), 0);
  // A short upload's single pass runs inside its one media task (prepareMedia), whose log line
  // has the part's own time; runs before that patch had a `transcode` task of their own.
  const transcode = runs.find((r) => r.type === 'transcode');
  const mediaTask = transcode ?? runs.find((r) => r.type === 'prepareMedia');
  return {
    videoId,
    runMs: closeMs - startMs,
    transcodeMs: transcode ? own(transcode) : (mediaStepPartsOf(stack.workers, videoId)?.transcode ?? NaN),
    transcodeQueuedMs: mediaTask ? (mediaTask.startedMs ?? NaN) - mediaTask.scheduledMs : NaN,
    mediaActivitiesMs: sum(runs.filter(isMedia)),
    otherActivitiesMs: sum(runs.filter((r) => !isMedia(r))),
    activities: runs.length,
  };
}

/** (a) baseline: the product's rendition encode of the clip, bare, `times` in a row. */
export async function bareTranscodes(file: string, scratch: string, times: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push(await bareEncodeMs(file, path.join(scratch, `bare-${i}.mp4`)));
  return out;
}

/** (d) `count` uploads posted at once, until the last run closed; then the same media work run directly, back to back. */
export async function batch(
  stack: HttpStack,
  direct: DirectSteps,
  clipName: string,
  count: number,
  log: (l: string) => void,
): Promise<BatchResult> {
  const ids = Array.from({ length: count }, (_, i) => `batch-${i}`);
  const began = Date.now();
  await Promise.all(ids.map((id) => post(stack, id, clipName)));
  const closes = await Promise.all(ids.map((id) => completed(stack, id)));
  const batchMs = Math.max(...closes.map((c) => c.closeMs)) - began;
  log(`  batch of ${count}: ${(batchMs / 1000).toFixed(1)} s; now the same media work directly, back to back…`);
  const runs: DirectRun[] = [];
  const t0 = Date.now();
  for (let i = 0; i < count; i++) runs.push(await direct.run(`bare-${i}`, clipName));
  return {
    uploads: count,
    batchMs,
    bareMs: Date.now() - t0,
    bareRunsMs: runs.map((r) => r.totalMs),
    directTranscodeMs: runs.map((r) => r.stepsMs['transcode'] ?? NaN),
  };
}

interface Pending {
  type: string;
  attempt: number;
  started: boolean;
  startedMs: number;
  progress?: HeartbeatProgress;
}

async function pending(stack: HttpStack, workflowId: string): Promise<Pending[]> {
  const d = await stack.env.client.workflow.getHandle(workflowId).describe();
  return (d.raw.pendingActivities ?? []).map((a) => {
    const payload = a.heartbeatDetails?.payloads?.[0];
    let progress: HeartbeatProgress | undefined;
    try {
      progress = payload ? defaultPayloadConverter.fromPayload<HeartbeatProgress>(payload) : undefined;
    } catch {
      progress = undefined;
    }
    return {
      type: a.activityType?.name ?? '',
      attempt: a.attempt ?? 1,
      // PENDING_ACTIVITY_STATE_STARTED
      started: a.state === 2,
      startedMs: epochMs(a.lastStartedTime),
      progress,
    };
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * The media worker in charge: the stack's own at first, then each replacement. A kill test
 * replaces it, so the next one kills the right process.
 */
export class MediaWorker {
  constructor(
    private readonly stack: HttpStack,
    private proc: ChildProcess,
  ) {}

  /** SIGKILL, then a replacement started at once (it is ready well inside a heartbeat timeout). */
  async killAndReplace(): Promise<{ killedAtMs: number; replacementReadyMs: number }> {
    const exited = new Promise((r) => this.proc.once('exit', r));
    const killedAtMs = Date.now();
    this.proc.kill('SIGKILL');
    await exited;
    const started = await this.stack.startWorkers(['media']);
    this.proc = started.procs.get('media')!;
    return { killedAtMs, replacementReadyMs: Date.now() - killedAtMs };
  }
}

/**
 * (e) SIGKILL of the media worker in the middle of `type` (`transcode`: the single pass of a
 * short clip; `encodeSegment`: one segment of a long one, after `segmentsBefore` finished), when
 * its heartbeat says it is `atPercent` through. Measures the seconds from the kill until the
 * killed activity's attempt 2 starts (pending activity info, checked against the history), and
 * the encoding the kill threw away. The run is terminated once the media work is done.
 */
export async function killDuringEncode(
  stack: HttpStack,
  worker: MediaWorker,
  o: {
    videoId: string;
    clipName: string;
    clipSec: number;
    type: 'transcode' | 'encodeSegment';
    atPercent: number;
    segmentsBefore?: number;
  },
): Promise<KillResult> {
  const workflowId = workflowIdFor(o.videoId);
  await post(stack, o.videoId, o.clipName);
  // The single pass runs inside a short upload's one media task: that task, while its heartbeat
  // says it is encoding.
  const task = o.type === 'transcode' ? 'prepareMedia' : 'encodeSegment';
  const last = o.type === 'transcode' ? 'prepareMedia' : 'joinSegments';
  const victim = await until(`${o.type} at ${o.atPercent} %`, async () => {
    const runs = await activityRuns(stack.env.client, workflowId);
    // A machine faster than the polling: fail rather than wait for a moment that has passed.
    if (runs.some((r) => r.type === last && r.completed))
      throw new Error(`the media step ended before the kill (no ${o.type} seen at ${o.atPercent} %)`);
    if (runs.filter((r) => r.type === task && r.completed).length < (o.segmentsBefore ?? 0)) return undefined;
    return (await pending(stack, workflowId)).find(
      (a) =>
        a.type === task && a.started && a.attempt === 1 && a.progress?.phase === 'transcode' && (a.progress.percent ?? 0) >= o.atPercent,
    );
  });
  const { killedAtMs, replacementReadyMs } = await worker.killAndReplace();
  // The attempt that was running: the one whose start is the victim's (segments have the same type).
  const retry = await until(`attempt 2 of the killed ${o.type}`, async () =>
    (await pending(stack, workflowId)).find((a) => a.type === task && a.started && a.attempt >= 2),
  );
  const runs = await until(
    `${last} completed`,
    async () => {
      const rs = await activityRuns(stack.env.client, workflowId);
      return rs.some((r) => r.type === last && r.completed) ? rs : undefined;
    },
    600_000,
    500,
  );
  await stack.env.client.workflow.getHandle(workflowId).terminate('bench: only the media step is measured');
  const retried = runs.filter((r) => r.type === task && (r.attempt ?? 1) > 1);
  const fromHistory = retried.find((r) => r.startedMs === retry.startedMs) ?? retried[0];
  const segmentSec = o.type === 'encodeSegment' ? loadConfig({}).media.segmentSec : o.clipSec;
  return {
    type: o.type,
    clipSec: o.clipSec,
    workSec: segmentSec,
    percentAtKill: victim.progress?.percent ?? NaN,
    killToRetryMs: retry.startedMs - killedAtMs,
    killToRetryHistoryMs: fromHistory?.startedMs !== undefined ? fromHistory.startedMs - killedAtMs : NaN,
    lostEncodeMs: killedAtMs - victim.startedMs,
    retriedActivities: retried.length,
    attempts: retried.map((r) => r.attempt ?? 1),
    replacementReadyMs,
    heartbeatTimeoutMs: loadConfig({}).workers.mediaHeartbeatTimeoutMs,
    leaseTtlMs: loadConfig({}).workers.leaseTtlMs,
  };
}

/** Copies `file` into the stack's ingest dir as `name`. */
export async function ingest(stack: HttpStack, file: string, name: string): Promise<string> {
  const to = path.join(stack.ingestDir, name);
  await copyFile(file, to);
  return to;
}
