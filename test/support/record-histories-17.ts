// `npm run build && npx tsx test/support/record-histories-17.ts`: records issue 17's branches as
// replay fixtures: processVideo through the index saga, the saga compensated (vector store down
// for good), and the deleteVideo saga of a finished video.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { taskQueues } from '../../src/pipeline/catalogue';
import type { DeleteVideoInput, ProcessVideoInput } from '../../src/workflows/contracts';
import { deletionWorkflowIdFor, workflowIdFor } from '../../src/workflows/ids';
import { createTestDatabase } from './database';
import { makeTinyClip } from './media';
import { saveHistory } from './save-history';
import { startTemporal } from './temporal';
import { startWorkers } from './workers';

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-record17-'));
  const faultFile = path.join(dataDir, 'vector-store-down');
  const env = await startTemporal();
  const db = await createTestDatabase();
  const queues = taskQueues('rec17-');
  const workers = await startWorkers(['pipeline', 'media', 'ai', 'index'], {
    temporalAddress: env.address,
    databaseUrl: db.url,
    dataDir,
    queuePrefix: 'rec17-',
    extraEnv: { BIBLIO_TEST_VECTOR_FAULT_FILE: faultFile, BIBLIO_INGEST_DIR: dataDir },
  });
  try {
    const clip = path.join(dataDir, 'clip.mp4');
    await makeTinyClip(clip);
    const run = async (videoId: string): Promise<string> => {
      const input: ProcessVideoInput = { version: 1, videoId, source: { kind: 'file', path: clip }, queues };
      const handle = await env.client.workflow.start('processVideo', {
        workflowId: workflowIdFor(videoId),
        taskQueue: queues.pipeline,
        args: [input],
      });
      await handle.result().catch(() => undefined);
      return handle.workflowId;
    };
    await saveHistory(env.address, await run('rec17-ok'), 'index-saga-17');
    await writeFile(faultFile, 'down');
    await saveHistory(env.address, await run('rec17-compensated'), 'index-compensated-17');
    await rm(faultFile);
    const del: DeleteVideoInput = { videoId: 'rec17-ok', queues };
    const handle = await env.client.workflow.start('deleteVideo', {
      workflowId: deletionWorkflowIdFor(del.videoId),
      taskQueue: queues.pipeline,
      args: [del],
    });
    await handle.result();
    await saveHistory(env.address, handle.workflowId, 'delete-video-17');
  } finally {
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
