// `npm run build && npx tsx test/support/record-histories-16.ts`: records the issue-16 branch of
// processVideo (analysis inputs, analysis deferred → ready-degraded → re-analysed on a durable
// timer → re-indexed) as test/fixtures/histories/issue16-degraded-reanalysed.json.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { taskQueues } from '../../src/pipeline/catalogue';
import type { ProcessVideoInput } from '../../src/workflows/contracts';
import { workflowIdFor } from '../../src/workflows/ids';
import { createTestDatabase } from './database';
import { makeTinyClip } from './media';
import { INSUFFICIENT_QUOTA, startOpenAiFaultServer } from './openai-fault-server';
import { saveHistory } from './save-history';
import { startTemporal } from './temporal';
import { startWorkers } from './workers';

const OUT = path.resolve(__dirname, '..', 'fixtures', 'histories', 'issue16-degraded-reanalysed.json');

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-record16-'));
  const env = await startTemporal();
  const db = await createTestDatabase();
  const fault = await startOpenAiFaultServer();
  fault.setScript([INSUFFICIENT_QUOTA], '/v1/chat/completions');
  const workers = await startWorkers(['pipeline', 'media', 'ai', 'index'], {
    temporalAddress: env.address,
    databaseUrl: db.url,
    dataDir,
    queuePrefix: 'rec16-',
    extraEnv: { OPENAI_BASE_URL: fault.url, OPENAI_API_KEY: 'sk-test', AI_REANALYZE_DELAYS_MS: '2000,4000' },
  });
  try {
    const clip = path.join(dataDir, 'clip.mp4');
    await makeTinyClip(clip);
    const input: ProcessVideoInput = {
      version: 1,
      videoId: 'rec16-degraded',
      source: { kind: 'file', path: clip },
      queues: taskQueues('rec16-'),
    };
    const handle = await env.client.workflow.start('processVideo', {
      workflowId: workflowIdFor(input.videoId),
      taskQueue: input.queues.pipeline,
      args: [input],
    });
    await handle.result();
    await saveHistory(env.address, handle.workflowId, path.basename(OUT, '.json'));
  } finally {
    await workers.stop();
    await fault.close();
    await env.teardown();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
