// `npx tsx test/support/record-histories-15.ts` (after `npm run build`): records issue 15's replay
// fixture — a segmented transcode (a 30 s clip in 5 s segments, several segments in flight,
// audio alongside, join) with `hls: false`, so it replays whether or not packageHls is wired.
// Payloads are encrypted with the fixed FIXTURE_PAYLOAD_KEY the replay test decodes with.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { makeSampleClip } from '../../src/media/sample-clip';
import { taskQueues } from '../../src/pipeline/catalogue';
import { dataConverterWith } from '../../src/temporal/payload-codec';
import type { ProcessVideoInput } from '../../src/workflows/contracts';
import { workflowIdFor } from '../../src/workflows/ids';
import { createTestDatabase } from './database';
import { FIXTURE_PAYLOAD_KEY } from './record-histories-18';
import { startTemporal, temporalCliPath } from './temporal';
import { startWorkers } from './workers';

const OUT = path.resolve(__dirname, '..', 'fixtures', 'histories');

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-record15-'));
  const ingestDir = path.join(dataDir, 'ingest');
  await mkdir(ingestDir, { recursive: true });
  const clip = path.join(ingestDir, 'clip.mp4');
  await makeSampleClip(clip, { seconds: 30, width: 320, height: 240, audio: true });
  const env = await startTemporal();
  const db = await createTestDatabase();
  const workers = await startWorkers(['pipeline', 'media', 'ai', 'index'], {
    temporalAddress: env.address,
    databaseUrl: db.url,
    dataDir,
    queuePrefix: 'rec15-',
    extraEnv: { BIBLIO_PAYLOAD_KEY: FIXTURE_PAYLOAD_KEY, BIBLIO_INGEST_DIR: ingestDir, MEDIA_SEGMENT_SEC: '5' },
  });
  const client = new Client({
    connection: env.client.connection,
    dataConverter: dataConverterWith(Buffer.from(FIXTURE_PAYLOAD_KEY, 'base64')),
  });
  try {
    const queues = taskQueues('rec15-');
    const input: ProcessVideoInput = {
      version: 1,
      videoId: 'rec15-seg',
      source: { kind: 'file', path: clip },
      queues,
      hls: false,
      segmentation: { maxParallel: 3 },
    };
    const handle = await client.workflow.start('processVideo', {
      workflowId: workflowIdFor(input.videoId),
      taskQueue: queues.pipeline,
      args: [input],
    });
    await handle.result();
    const json = execFileSync(
      temporalCliPath(),
      ['workflow', 'show', '--workflow-id', handle.workflowId, '--address', env.address, '--output', 'json'],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    await writeFile(path.join(OUT, 'segmented-15.json'), json.endsWith('\n') ? json : `${json}\n`);
    console.log(`recorded segmented-15: ${(JSON.parse(json) as { events: unknown[] }).events.length} events`);
  } finally {
    await workers.stop();
    await env.teardown();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
