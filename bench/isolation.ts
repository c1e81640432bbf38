// Resource isolation benchmark (issue 19): latency of the analyze and index activities of small
// uploads with the media worker idle, then with it saturated by long transcodes. Prints numbers;
// run with `npm run build && npx tsx bench/isolation.ts` (not part of npm test: minutes of ffmpeg).
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { makeSampleClip } from '../src/media/sample-clip';
import { stepOfActivity, taskQueues } from '../src/pipeline/catalogue';
import { createTestDatabase } from '../test/support/database';
import { startOpsApi, waitFor } from '../test/support/ops';
import { startTemporal } from '../test/support/temporal';
import { startWorkers } from '../test/support/workers';

const SMALL = Number(process.env.BENCH_SMALL ?? 6);
const LONG_SECONDS = Number(process.env.BENCH_LONG_SECONDS ?? 90);

async function stepLatencies(client: Client, workflowId: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { type: string; at: number }>();
  const out: Record<string, number> = {};
  const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
    Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);
  // A step of several activities (the index saga) counts from its first schedule to its last completion.
  const firstScheduled: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    if (s) {
      const type = s.activityType?.name ?? '?';
      const step = stepOfActivity(type) ?? type;
      scheduled.set(String(e.eventId), { type: step, at: ms(e.eventTime) });
      firstScheduled[step] ??= ms(e.eventTime);
    }
    const c = e.activityTaskCompletedEventAttributes;
    if (c) {
      const sch = scheduled.get(String(c.scheduledEventId));
      if (sch) out[sch.type] = ms(e.eventTime) - (firstScheduled[sch.type] ?? sch.at);
    }
  }
  return out;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))] ?? NaN;

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-'));
  const ingestDir = path.join(dataDir, 'ingest');
  await mkdir(ingestDir, { recursive: true });
  await makeSampleClip(path.join(ingestDir, 'small.mp4'), { seconds: 2, width: 320, height: 240, audio: true });
  await makeSampleClip(path.join(ingestDir, 'long.mp4'), { seconds: LONG_SECONDS, width: 1280, height: 720, audio: true });
  const env = await startTemporal();
  const db = await createTestDatabase();
  const prefix = `bench${process.pid}-`;
  const queues = taskQueues(prefix);
  const workers = await startWorkers(['pipeline', 'media', 'ai', 'index'], {
    temporalAddress: env.address,
    databaseUrl: db.url,
    dataDir,
    queuePrefix: prefix,
    // Two slots for long transcodes + one for the small ones; ffmpeg of the long ones on every core.
    extraEnv: { BIBLIO_INGEST_DIR: ingestDir, MEDIA_CONCURRENCY: '3', FFMPEG_THREADS: '0', FFMPEG_PRESET: 'veryfast' },
  });
  const api = await startOpsApi({ client: env.client, pool: db.pool, dataDir, ingestDir, queues, env: { RATE_LIMIT_MAX: '0' } });
  const status = async (id: string) => (await api.app.inject({ method: 'GET', url: `/videos/${id}` })).json().status as string;
  const post = (id: string, file: string) =>
    api.app.inject({ method: 'POST', url: '/videos', payload: { videoId: id, source: { kind: 'file', path: file } } });

  const runSmall = async (label: string) => {
    const lat: Record<string, number[]> = { analyze: [], index: [] };
    for (let i = 0; i < SMALL; i++) {
      const id = `${label}-${i}`;
      await post(id, 'small.mp4');
      await waitFor(`${id} ready`, async () => ((await status(id)) === 'ready' ? true : undefined), 300_000, 200);
      const l = await stepLatencies(env.client, `video-${id}`);
      lat.analyze!.push(l.analyze ?? NaN);
      lat.index!.push(l.index ?? NaN);
    }
    return lat;
  };

  try {
    const idle = await runSmall('idle');
    await post('long-1', 'long.mp4');
    await post('long-2', 'long.mp4');
    await waitFor('long transcodes running', async () => {
      const d = await env.client.workflow.getHandle('video-long-2').describe();
      return d.raw.pendingActivities?.[0]?.state === 2 ? true : undefined; // STARTED
    });
    const busy = await runSmall('busy');
    const longStillRunning = (await status('long-1')) !== 'ready' && (await status('long-2')) !== 'ready';
    console.log(`media saturated by 2 × ${LONG_SECONDS}s 720p transcodes (still running at the end: ${longStillRunning})`);
    for (const step of ['analyze', 'index']) {
      const a = idle[step]!;
      const b = busy[step]!;
      console.log(
        `${step.padEnd(10)} idle p50 ${pct(a, 0.5)} ms, max ${Math.max(...a)} ms | saturated p50 ${pct(b, 0.5)} ms, max ${Math.max(...b)} ms (n=${SMALL})`,
      );
    }
  } finally {
    await api.close();
    await workers.stop();
    await env.teardown();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
