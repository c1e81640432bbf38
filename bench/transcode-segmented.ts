// Segmented transcode benchmark (issue 15): wall time of one long clip through single-pass
// ffmpeg vs the segmented path on one media worker and on two, and the work redone after a
// SIGKILL at 70 % of the segments. Prints numbers; run with
// `npm run build && npx tsx bench/transcode-segmented.ts` (not part of npm test: minutes of ffmpeg).
// BENCH_SECONDS (600), BENCH_SIZE (640x360), BENCH_PRESET (veryfast), BENCH_SEGMENT_SEC (10).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { renditionArgs } from '../src/media/ffmpeg-args';
import { runProcess } from '../src/media/run-process';
import { taskQueues } from '../src/pipeline/catalogue';
import { loadDataConverter } from '../src/temporal/data-converter';
import type { ProcessVideoInput } from '../src/workflows/contracts';
import { workflowIdFor } from '../src/workflows/ids';
import { createTestDatabase } from '../test/support/database';
import { ffmpeg } from '../test/support/media-corpus';
import { activityRuns, encodedSegmentsIn } from '../test/support/segment-history';
import { startTemporal } from '../test/support/temporal';
import { startWorkers, type WorkerProcesses } from '../test/support/workers';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 600);
const SIZE = process.env.BENCH_SIZE ?? '640x360';
const PRESET = process.env.BENCH_PRESET ?? 'veryfast';
const SEGMENT_SEC = Number(process.env.BENCH_SEGMENT_SEC ?? 10);

const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);

/** From planTranscode scheduled to joinSegments completed: the media step's wall time, from the history. */
async function transcodeWindowMs(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const types = new Map<string, string>();
  let start = NaN;
  let end = NaN;
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      types.set(String(e.eventId), s.activityType?.name ?? '');
      if (s.activityType?.name === 'planTranscode') start = ms(e.eventTime);
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (c && ['joinSegments', 'transcode'].includes(types.get(String(c.scheduledEventId)) ?? '')) end = ms(e.eventTime);
  }
  return end - start;
}

/**
 * Waits until the media step is done (joinSegments completed), then ends the run: only the
 * transcode is measured, and the analysis steps would only compete for the cores.
 */
async function transcoded(client: Client, workflowId: string): Promise<void> {
  for (;;) {
    const runs = await activityRuns(client, workflowId);
    if (runs.some((r) => r.type === 'joinSegments' && r.completed)) break;
    const { status } = await client.workflow.getHandle(workflowId).describe();
    if (status.name !== 'RUNNING') throw new Error(`${workflowId} ended ${status.name} before its transcode finished`);
    await new Promise((r) => setTimeout(r, 200));
  }
  await client.workflow.getHandle(workflowId).terminate('bench: only the transcode is measured');
}

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-seg-'));
  const ingestDir = path.join(dataDir, 'ingest');
  await mkdir(ingestDir, { recursive: true });
  const clip = path.join(ingestDir, 'long.mp4');
  const [w, h] = SIZE.split('x').map(Number);
  console.log(`generating a ${SECONDS} s ${SIZE} clip…`);
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=${SIZE}:rate=25:duration=${SECONDS}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${SECONDS}`],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest'],
    clip,
  ]);

  // 1. Single pass: the product's own ffmpeg arguments, all cores.
  const t0 = Date.now();
  const single = await runProcess('ffmpeg', [
    ...renditionArgs({
      input: clip,
      output: path.join(dataDir, 'single.mp4'),
      preset: PRESET,
      threads: 0,
      maxHeight: Math.min(720, h ?? 360),
    }),
  ]);
  const singleMs = Date.now() - t0;
  if (single.code !== 0) throw new Error('single-pass ffmpeg failed');
  console.log(`single pass: ${(singleMs / 1000).toFixed(1)} s (${w}x${h}, preset ${PRESET})`);

  const env = await startTemporal();
  const db = await createTestDatabase();
  const prefix = `bench${process.pid}-`;
  const queues = taskQueues(prefix);
  const base = { temporalAddress: env.address, databaseUrl: db.url, dataDir, queuePrefix: prefix };
  const others = await startWorkers(['pipeline', 'ai', 'index'], base);
  const mediaEnv = {
    BIBLIO_INGEST_DIR: ingestDir,
    FFMPEG_THREADS: '0',
    FFMPEG_PRESET: PRESET,
    MEDIA_SEGMENT_SEC: String(SEGMENT_SEC),
    MEDIA_SEGMENT_SLOTS: '1',
  };
  const startMedia = () => startWorkers(['media'], { ...base, extraEnv: mediaEnv });
  const client = new Client({
    connection: env.client.connection,
    namespace: 'default',
    dataConverter: await loadDataConverter({ dataDir }),
  });
  const start = (videoId: string) => {
    const input: ProcessVideoInput = {
      version: 1,
      videoId,
      source: { kind: 'file', path: clip },
      queues,
      mediaHeartbeatTimeoutMs: 30_000,
      hls: false,
      segmentation: { maxParallel: 4 },
    };
    return client.workflow.start('processVideo', { taskQueue: queues.pipeline, workflowId: workflowIdFor(videoId), args: [input] });
  };
  const media: WorkerProcesses[] = [];
  const stopMedia = async () => {
    for (const m of media.splice(0)) await m.stop();
  };
  try {
    // 2. Segmented, one media worker.
    media.push(await startMedia());
    let handle = await start('bench-one');
    await transcoded(client, handle.workflowId);
    const oneMs = await transcodeWindowMs(client, handle.workflowId);
    const count = (await activityRuns(client, handle.workflowId)).filter((r) => r.type === 'encodeSegment').length;
    console.log(
      `segmented, 1 worker: ${(oneMs / 1000).toFixed(1)} s for ${count} segments — ${(oneMs / singleMs).toFixed(3)}× single pass`,
    );

    // 3. Segmented, two media workers.
    media.push(await startMedia());
    handle = await start('bench-two');
    await transcoded(client, handle.workflowId);
    const twoMs = await transcodeWindowMs(client, handle.workflowId);
    const ids = new Set((await activityRuns(client, handle.workflowId)).filter((r) => r.type === 'encodeSegment').map((r) => r.identity));
    console.log(
      `segmented, 2 workers: ${(twoMs / 1000).toFixed(1)} s (${ids.size} worker identities) — ${(twoMs / singleMs).toFixed(3)}× single pass`,
    );
    await stopMedia();

    // 4. Kill at 70 %: one worker SIGKILLed once 70 % of the segments completed, then a new one.
    const first = await startMedia();
    media.push(first);
    handle = await start('bench-kill');
    for (;;) {
      const done = (await activityRuns(client, handle.workflowId)).filter((r) => r.type === 'encodeSegment' && r.completed).length;
      if (done >= Math.ceil(count * 0.7)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const killedPid = first.procs.get('media')?.pid as number;
    process.kill(killedPid, 'SIGKILL');
    const before = encodedSegmentsIn(first.output.get('media') ?? '', 'bench-kill');
    media.push(await startMedia());
    await transcoded(client, handle.workflowId);
    const runs = (await activityRuns(client, handle.workflowId)).filter((r) => r.type === 'encodeSegment');
    const retried = runs.filter((r) => (r.attempt ?? 1) > 1).length;
    const after = encodedSegmentsIn(media.at(-1)?.output.get('media') ?? '', 'bench-kill');
    const redone = before.length + after.length - runs.length + retried;
    console.log(
      `kill at 70 %: ${before.length}/${runs.length} segments done before the kill, ${retried} attempt(s) retried, ${redone} segment(s) of work redone = ${((redone / runs.length) * 100).toFixed(1)} % of the video (restart-the-step: 100 %)`,
    );
  } finally {
    await stopMedia();
    await others.stop();
    await env.teardown();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
