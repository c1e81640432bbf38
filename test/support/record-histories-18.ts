// `npx tsx test/support/record-histories-18.ts` (after `npm run build`): records issue 18's replay
// fixtures — an upload run (kind 'upload', signed GET URL as a local activity) and an external URL
// that expired and was refreshed by signal. Payloads with URLs are encrypted with the fixed
// FIXTURE_PAYLOAD_KEY below (a test value, not a secret), which the replay test decodes with.
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import { taskQueues } from '../../src/pipeline/catalogue';
import { loadSecret } from '../../src/security/dev-secrets';
import { dataConverterWith } from '../../src/temporal/payload-codec';
import type { ProcessVideoInput } from '../../src/workflows/contracts';
import { workflowIdFor } from '../../src/workflows/ids';
import { refreshSourceUrlSignal, statusQuery } from '../../src/workflows/messages';
import { createTestDatabase } from './database';
import { makeTinyClip } from './media';
import { startTemporal, temporalCliPath } from './temporal';
import { startWorkers } from './workers';

export const FIXTURE_PAYLOAD_KEY = Buffer.alloc(32, 18).toString('base64');
const OUT = path.resolve(__dirname, '..', 'fixtures', 'histories');

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-record18-'));
  const env = await startTemporal();
  const db = await createTestDatabase();
  const clipFile = path.join(dataDir, 'clip.mp4');
  await makeTinyClip(clipFile);
  const clip = await readFile(clipFile);
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
  const workers = await startWorkers(['pipeline', 'media', 'ai', 'index'], {
    temporalAddress: env.address,
    databaseUrl: db.url,
    dataDir,
    queuePrefix: 'rec18-',
    extraEnv: { BIBLIO_PAYLOAD_KEY: FIXTURE_PAYLOAD_KEY, STORAGE_BACKEND: 'local', BIBLIO_SSRF_ALLOW: '127.0.0.1' },
  });
  const client = new Client({
    connection: env.client.connection,
    dataConverter: dataConverterWith(Buffer.from(FIXTURE_PAYLOAD_KEY, 'base64')),
  });
  try {
    const storage = new LocalObjectStorage({
      root: path.join(dataDir, 'objects'),
      secret: await loadSecret(undefined, dataDir, 'storage-signing-key'),
      publicBaseUrl: 'http://127.0.0.1:3000',
    });
    await storage.putFile('uploads/rec18-up/clip.mp4', clipFile, 'video/mp4');
    const queues = taskQueues('rec18-');
    const cases: [string, ProcessVideoInput, boolean][] = [
      [
        'upload-completed-18',
        { version: 1, videoId: 'rec18-up', source: { kind: 'upload', key: 'uploads/rec18-up/clip.mp4' }, queues },
        false,
      ],
      [
        'url-refreshed-18',
        { version: 1, videoId: 'rec18-url', source: { kind: 'url', url: `http://127.0.0.1:${port}/v.mp4?token=old` }, queues },
        true,
      ],
    ];
    for (const [name, input, refresh] of cases) {
      const handle = await client.workflow.start('processVideo', {
        workflowId: workflowIdFor(input.videoId),
        taskQueue: queues.pipeline,
        args: [input],
      });
      if (refresh) {
        for (;;) {
          if ((await handle.query(statusQuery)).waitingForSource) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        await handle.signal(refreshSourceUrlSignal, { url: `http://127.0.0.1:${port}/v.mp4?token=fresh` });
      }
      await handle.result();
      const json = execFileSync(
        temporalCliPath(),
        ['workflow', 'show', '--workflow-id', handle.workflowId, '--address', env.address, '--output', 'json'],
        { encoding: 'utf8' },
      );
      await writeFile(path.join(OUT, `${name}.json`), json.endsWith('\n') ? json : `${json}\n`);
      console.log(`recorded ${name}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events`);
    }
  } finally {
    await workers.stop();
    await env.teardown();
    await db.drop();
    await new Promise((r) => server.close(r));
    await rm(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
