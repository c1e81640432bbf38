// `npm run record-histories`: records the replay fixtures, one history per branch of the
// workflows, into test/fixtures/histories/ (the replay test replays every file there).
// Re-run it whenever a workflow change is meant to change the command sequence; before the
// first release that is allowed without patches (docs/versioning.md).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, type WorkflowHandle } from '@temporalio/client';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import { makeSampleClip } from '../../src/media/sample-clip';
import { taskQueues } from '../../src/pipeline/catalogue';
import { loadSecret } from '../../src/security/dev-secrets';
import { dataConverterWith } from '../../src/temporal/payload-codec';
import type { DeleteVideoInput, ProcessVideoInput, ReanalyzeVideoInput } from '../../src/workflows/contracts';
import type { processVideo } from '../../src/workflows';
import { deletionWorkflowIdFor, reanalysisWorkflowIdFor, workflowIdFor } from '../../src/workflows/ids';
import { refreshSourceUrlSignal, statusQuery } from '../../src/workflows/messages';
import { createTestDatabase } from './database';
import { faultProvider } from './fault-provider';
import { makeNotAVideo, makeTinyClip } from './media';
import { INSUFFICIENT_QUOTA, startOpenAiFaultServer } from './openai-fault-server';
import { FIXTURE_PAYLOAD_KEY, HISTORIES_DIR, saveHistory } from './save-history';
import { activityRuns } from './segment-history';
import { startTemporal } from './temporal';
import { startWorkers } from './workers';

const PREFIX = 'rec-';

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-record-'));
  const ingestDir = path.join(dataDir, 'ingest');
  await mkdir(ingestDir, { recursive: true });
  const tiny = path.join(ingestDir, 'tiny.mp4');
  const long = path.join(ingestDir, 'long.mp4');
  const junk = path.join(ingestDir, 'junk.mp4');
  await makeTinyClip(tiny);
  await makeSampleClip(long, { seconds: 30, width: 320, height: 240, audio: true });
  await makeNotAVideo(junk);
  const vectorFault = path.join(dataDir, 'vector-store-down');

  // An external source that answers only the refreshed URL.
  const clip = await readFile(tiny);
  const server = http.createServer((req, res) => {
    if (req.url?.includes('token=fresh')) {
      res.writeHead(200, { 'content-length': clip.length });
      return res.end(clip);
    }
    res.writeHead(403);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  const env = await startTemporal();
  const db = await createTestDatabase();
  const rejecting = await startOpenAiFaultServer();
  rejecting.setScript(Array.from({ length: 5 }, () => ({ kind: 'status', status: 401 }) as const));
  const quota = await startOpenAiFaultServer();
  quota.setScript([INSUFFICIENT_QUOTA], '/v1/chat/completions');

  const base = { temporalAddress: env.address, databaseUrl: db.url, dataDir };
  const common = {
    BIBLIO_PAYLOAD_KEY: FIXTURE_PAYLOAD_KEY,
    BIBLIO_INGEST_DIR: ingestDir,
    BIBLIO_SSRF_ALLOW: '127.0.0.1',
    STORAGE_BACKEND: 'local',
    // 5 s segments: the 30 s clip takes the segmented branch (the production default, 10 s, would too, with fewer events).
    MEDIA_SEGMENT_SEC: '5',
    BIBLIO_TEST_VECTOR_FAULT_FILE: vectorFault,
  };
  const workers = [
    await startWorkers(['pipeline', 'media', 'ai', 'index'], { ...base, queuePrefix: PREFIX, extraEnv: common }),
    // An AI worker whose provider refuses our key: the analysis-failure branch.
    await startWorkers(['ai'], {
      ...base,
      queuePrefix: `${PREFIX}rejecting-`,
      extraEnv: { ...common, ...faultProvider(rejecting).env },
    }),
    // An AI worker whose provider is out of quota once: degraded, then re-analysed on a short timer.
    await startWorkers(['ai'], {
      ...base,
      queuePrefix: `${PREFIX}quota-`,
      extraEnv: { ...common, ...faultProvider(quota, { AI_REANALYZE_DELAYS_MS: '2000,4000' }).env },
    }),
  ];
  const client = new Client({
    connection: env.client.connection,
    dataConverter: dataConverterWith(Buffer.from(FIXTURE_PAYLOAD_KEY, 'base64')),
  });
  const queues = taskQueues(PREFIX);
  const start = (videoId: string, source: ProcessVideoInput['source'], extra: Partial<ProcessVideoInput> = {}) =>
    client.workflow.start('processVideo', {
      workflowId: workflowIdFor(videoId),
      taskQueue: queues.pipeline,
      args: [{ version: 1, videoId, source, queues, ...extra } satisfies ProcessVideoInput],
    });
  const record = async (name: string, handle: WorkflowHandle) => {
    await handle.result().catch(() => undefined);
    await saveHistory(env.address, handle.workflowId, name);
  };

  try {
    await mkdir(HISTORIES_DIR, { recursive: true });
    await record('single-pass-completed', await start('rec-single', { kind: 'file', path: tiny }));
    await record('segmented-completed', await start('rec-segmented', { kind: 'file', path: long }, { segmentation: { maxParallel: 3 } }));
    await record('invalid-media-failed', await start('rec-junk', { kind: 'file', path: junk }));
    await record(
      'analysis-rejected-failed',
      await start('rec-ai-rejected', { kind: 'file', path: tiny }, { queues: { ...queues, ai: taskQueues(`${PREFIX}rejecting-`).ai } }),
    );
    await record(
      'analysis-degraded-reanalysed',
      await start('rec-degraded', { kind: 'file', path: tiny }, { queues: { ...queues, ai: taskQueues(`${PREFIX}quota-`).ai } }),
    );

    await writeFile(vectorFault, 'down');
    await record('index-compensated-failed', await start('rec-compensated', { kind: 'file', path: tiny }));
    await rm(vectorFault);

    const storage = new LocalObjectStorage({
      root: path.join(dataDir, 'objects'),
      secret: await loadSecret(undefined, dataDir, 'storage-signing-key'),
      publicBaseUrl: 'http://127.0.0.1:3000',
    });
    await storage.putFile('uploads/rec-upload/clip.mp4', tiny, 'video/mp4');
    await record('upload-completed', await start('rec-upload', { kind: 'upload', key: 'uploads/rec-upload/clip.mp4' }));

    const expiring = await start('rec-url', { kind: 'url', url: `http://127.0.0.1:${port}/v.mp4?token=old` });
    while (!(await expiring.query(statusQuery)).waitingForSource) await new Promise((r) => setTimeout(r, 200));
    await expiring.signal(refreshSourceUrlSignal, { url: `http://127.0.0.1:${port}/v.mp4?token=fresh` });
    await record('url-refreshed-completed', expiring);

    // Cancelled by an operator mid-transcode: the media activities stop before the run closes.
    const cancelled = await start('rec-cancelled', { kind: 'file', path: long }, { segmentation: { maxParallel: 1 } });
    while (!(await activityRuns(client, cancelled.workflowId)).some((r) => r.type === 'encodeSegment' && r.completed))
      await new Promise((r) => setTimeout(r, 200));
    await cancelled.cancel();
    await record('operator-cancelled', cancelled);

    // Issue 25: re-analysis on demand of a video whose run has ended (what POST /videos/:id/reanalyze starts).
    const single = await client.workflow.getHandle<typeof processVideo>(workflowIdFor('rec-single')).result();
    const reanalysis: ReanalyzeVideoInput = { videoId: 'rec-single', source: { kind: 'file', path: tiny }, media: single.media, queues };
    await record(
      'reanalyze-video-completed',
      await client.workflow.start('reanalyzeVideo', {
        workflowId: reanalysisWorkflowIdFor('rec-single'),
        taskQueue: queues.pipeline,
        args: [reanalysis],
      }),
    );

    const del: DeleteVideoInput = { videoId: 'rec-single', queues };
    await record(
      'delete-video',
      await client.workflow.start('deleteVideo', {
        workflowId: deletionWorkflowIdFor(del.videoId),
        taskQueue: queues.pipeline,
        args: [del],
      }),
    );
  } finally {
    for (const w of workers) await w.stop();
    await rejecting.close();
    await quota.close();
    await env.teardown();
    await db.drop();
    await new Promise((r) => server.close(r));
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
