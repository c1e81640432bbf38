// `npm run record-histories`: re-records the workflow history fixtures the replay test guards.
// Run it when a workflow change is *meant* to be incompatible (and version it with patched()
// first if runs of the old code may still be open). One fixture per branch of processVideo.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { taskQueues } from '../../src/pipeline/catalogue';
import type { ProcessVideoInput } from '../../src/workflows/contracts';
import { workflowIdFor } from '../../src/workflows/ids';
import { createTestDatabase } from './database';
import { makeNotAVideo, makeTinyClip } from './media';
import { startOpenAiFaultServer } from './openai-fault-server';
import { saveHistory } from './save-history';
import { startTemporal } from './temporal';
import { startWorkers } from './workers';

const OUT = path.resolve(__dirname, '..', 'fixtures', 'histories');

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-record-'));
  const env = await startTemporal();
  const db = await createTestDatabase();
  const fault = await startOpenAiFaultServer();
  const base = { temporalAddress: env.address, databaseUrl: db.url, dataDir };
  const offline = await startWorkers(['pipeline', 'media', 'ai', 'index'], { ...base, queuePrefix: 'rec-' });
  // A second AI worker that talks to a fault server refusing our key: the analyze-failure branch.
  const rejecting = await startWorkers(['ai'], {
    ...base,
    queuePrefix: 'rec-rejecting-',
    extraEnv: { OPENAI_BASE_URL: fault.url, OPENAI_API_KEY: 'sk-test' },
  });
  fault.setScript(Array.from({ length: 5 }, () => ({ kind: 'status', status: 401 }) as const));
  try {
    await mkdir(OUT, { recursive: true });
    const clip = path.join(dataDir, 'clip.mp4');
    const junk = path.join(dataDir, 'junk.mp4');
    await makeTinyClip(clip);
    await makeNotAVideo(junk);
    const queues = taskQueues('rec-');
    const cases: [string, ProcessVideoInput][] = [
      ['completed', { version: 1, videoId: 'rec-ok', source: { kind: 'file', path: clip }, queues }],
      ['failed-invalid-media', { version: 1, videoId: 'rec-junk', source: { kind: 'file', path: junk }, queues }],
      [
        'failed-ai-rejected',
        { version: 1, videoId: 'rec-ai', source: { kind: 'file', path: clip }, queues: { ...queues, ai: taskQueues('rec-rejecting-').ai } },
      ],
    ];
    for (const [name, input] of cases) {
      const handle = await env.client.workflow.start('processVideo', {
        workflowId: workflowIdFor(input.videoId),
        taskQueue: queues.pipeline,
        args: [input],
      });
      await handle.result().catch(() => undefined);
      await saveHistory(env.address, handle.workflowId, name);
    }
  } finally {
    await rejecting.stop();
    await offline.stop();
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
