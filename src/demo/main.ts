// `npm run demo`: a generated sample clip through the whole pipeline on embedded defaults —
// Temporal dev server (history on disk, Web UI), one process per task queue, the HTTP API —
// with live progress, ending with where to look. Stays up until Ctrl-C unless --exit.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { loadConfig } from '../config';
import { ensureDatabase, migrate } from '../db/database';
import { ApiKeysRepo } from '../db/api-keys-repo';
import { createPool } from '../db/database';
import { makeSampleClip } from '../media/sample-clip';
import { QUEUE_ROLES, taskQueues, WORKERS, type TaskQueues } from '../pipeline/catalogue';
import { pollerCount } from '../temporal/pollers';
import { traceSteps } from '../temporal/step-trace';
import type { VideoStatus } from '../contracts/http';
import { assertAlive, ProcessDiedError, portTaken, startProcess, stopProcess, waitFor, type ManagedProcess } from './processes';
import { ProgressLine } from './progress';
import { demoDatabase } from './database';

class DemoError extends Error {}

const out = (line = '') => process.stdout.write(`${line}\n`);

async function main() {
  const config = loadConfig();
  const exitWhenDone = process.argv.includes('--exit') || config.exitAfterDemo;
  const queues = taskQueues(config.queuePrefix);
  const { temporalPort, uiPort, temporalCli } = config.demo;
  if (!temporalCli) throw new DemoError('TEMPORAL_CLI is not set: run the demo with `npm run demo` (it resolves or builds the CLI).');

  const logDir = path.join(config.dataDir, 'logs');
  await Promise.all([logDir, config.ingestDir, path.join(config.dataDir, 'temporal')].map((d) => mkdir(d, { recursive: true })));

  for (const [port, what, variable] of [
    [temporalPort, 'Temporal', 'DEMO_TEMPORAL_PORT'],
    [uiPort, 'Temporal Web UI', 'DEMO_UI_PORT'],
    [config.api.port, 'API', 'API_PORT'],
  ] as const) {
    if (await portTaken(port)) {
      throw new DemoError(`port ${port} (${what}) is taken — is another demo or Temporal server running? Stop it, or set ${variable}.`);
    }
  }

  out(`Biblio demo — data in ${config.dataDir}`);
  const database = await demoDatabase(config, logDir);
  out(`  database   ${database.description}`);
  const applied = await Promise.resolve()
    .then(() => ensureDatabase(database.url))
    .then(() => migrate(database.url))
    .catch(async (err: unknown) => {
      await database.stop();
      throw err;
    });
  out(`  migrations ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
  // Every endpoint but /health needs a key: the demo makes an operator key and shows it once.
  const keyPool = createPool(database.url, 1);
  const demoKey = (await new ApiKeysRepo(keyPool).create('operator', 'demo').finally(() => keyPool.end())).key;
  const auth = { authorization: `Bearer ${demoKey}` };
  out(`  api key    ${demoKey} (operator; curl -H 'Authorization: Bearer …'; more: npm run keys -- create --role uploader)`);

  // Fresh per run (a second run in the same second must not find the first one's video).
  const videoId = `demo-${new Date()
    .toISOString()
    .replace(/[-:T.Z]/g, '')
    .slice(0, 14)}-${randomBytes(3).toString('hex')}`;
  // One folder per run keeps runs apart; the file name is the title the analyzer sees.
  const clip = path.join(config.ingestDir, videoId, 'sample test clip.mp4');
  await mkdir(path.dirname(clip), { recursive: true });
  await makeSampleClip(clip, { seconds: 12, width: 1280, height: 720, audio: true, ffmpegPath: config.ffmpeg.ffmpegPath });
  out(`  sample     ${clip} (12 s, 1280x720, test pattern + 440 Hz tone)`);

  const procs: ManagedProcess[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    out('\nstopping: API → workers → Temporal server…');
    const [server, ...rest] = procs;
    const api = rest.filter((p) => p.name === 'api');
    const workers = rest.filter((p) => p.name !== 'api');
    await Promise.all(api.map((p) => stopProcess(p, 5_000)));
    await Promise.all(workers.map((p) => stopProcess(p, config.workers.shutdownGraceMs + 5_000)));
    if (server) await stopProcess(server, 5_000);
    await database.stop();
    out('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_UI_URL: `http://localhost:${uiPort}`,
      BIBLIO_DATA_DIR: config.dataDir,
      BIBLIO_INGEST_DIR: config.ingestDir,
      DATABASE_URL: database.url,
    };

    const dbFile = path.join(config.dataDir, 'temporal', 'dev.sqlite');
    procs.push(
      startProcess(
        'temporal',
        temporalCli,
        [
          'server',
          'start-dev',
          '--db-filename',
          dbFile,
          // WAL: on-disk history at in-memory speed, and it survives kill -9 of the server.
          '--sqlite-pragma',
          'journal_mode=wal',
          '--sqlite-pragma',
          'synchronous=normal',
          '--ip',
          '127.0.0.1',
          '--port',
          String(temporalPort),
          '--ui-port',
          String(uiPort),
          '--log-level',
          'warn',
        ],
        childEnv,
        path.join(logDir, 'temporal.log'),
      ),
    );
    const connection = await waitFor('the Temporal dev server', 20_000, () => Connection.connect({ address: `127.0.0.1:${temporalPort}` }));
    const client = new Client({ connection, namespace: 'default' });
    out(`  temporal   dev server on 127.0.0.1:${temporalPort}, history in ${dbFile}`);

    const root = path.resolve(__dirname, '..');
    for (const role of QUEUE_ROLES) {
      procs.push(
        startProcess(role, process.execPath, [path.join(root, WORKERS[role].entry)], childEnv, path.join(logDir, `worker-${role}.log`)),
      );
    }
    await waitForPollers(client, queues, procs);
    out(`  workers    ${QUEUE_ROLES.map((role) => `${role}→'${queues[role]}'`).join('  ')} (one process each; logs in ${logDir})`);

    const api = startProcess('api', process.execPath, [path.join(root, 'api/main.js')], childEnv, path.join(logDir, 'api.log'));
    procs.push(api);
    const apiUrl = `http://${config.api.host}:${config.api.port}`;
    await waitFor('the API', 20_000, async () => {
      await assertAlive([api]);
      return (await fetch(`${apiUrl}/health`)).ok ? true : undefined;
    });
    out(`  api        ${apiUrl}`);
    out();

    const started = await fetch(`${apiUrl}/videos`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ videoId, source: { kind: 'file', path: path.relative(config.ingestDir, clip) } }),
    });
    const startBody = (await started.json()) as VideoStatus;
    if (started.status !== 202) throw new DemoError(`POST /videos answered ${started.status}: ${JSON.stringify(startBody)}`);
    out(`POST /videos → 202, workflow ${startBody.workflowId}`);

    const progress = new ProgressLine(process.stdout, queues);
    const final = await waitFor(
      'the pipeline to finish',
      10 * 60_000,
      async () => {
        await assertAlive(procs);
        const status = (await (await fetch(`${apiUrl}/videos/${videoId}`, { headers: auth })).json()) as VideoStatus;
        progress.update(status);
        return status.status === 'ready' || status.status === 'failed' ? status : undefined;
      },
      250,
    );
    progress.finish();

    const uiLink = final.links.temporalUi;
    if (final.status === 'failed') {
      out(`FAILED at ${final.lastError?.step}: ${final.lastError?.type}: ${final.lastError?.message}`);
      out(`See the run in the Temporal Web UI: ${uiLink}`);
      return shutdown(1);
    }

    out();
    out('Steps (from the workflow history):');
    for (const t of await traceSteps(client, final.workflowId, final.runId ?? undefined)) {
      out(`  ${t.activity.padEnd(12)} task queue '${t.taskQueue}'  ran by ${t.workerIdentity} (attempt ${t.attempt})`);
    }
    const r = final.result;
    if (r) {
      out();
      out('Result:');
      out(`  rendition  ${apiUrl}${r.rendition} (${r.width}x${r.height}, ${r.durationSec} s, H.264/AAC MP4)`);
      out(`  thumbnail  ${apiUrl}${r.thumbnail}`);
      out(`  analysis   [${r.analyzer}/${r.model}${r.offlineAnalysis ? ', offline — not AI; set OPENAI_API_KEY for AI analysis' : ''}]`);
      out(`             ${r.summary}`);
      out(`             tags: ${r.tags.join(', ')}`);
      out(`  indexed    PostgreSQL row videos.id='${videoId}', vectors in ${r.vectorCollection}`);
      const query = 'short test clip with audio';
      const search = (await (await fetch(`${apiUrl}/search?q=${encodeURIComponent(query)}&limit=3`, { headers: auth })).json()) as {
        results: { videoId: string; score: number }[];
      };
      const hit = search.results.find((h) => h.videoId === videoId);
      out(
        `  search     GET /search?q=${query} → ${search.results.length} hit(s); this video ${hit ? `at score ${hit.score}` : 'not among them'}`,
      );
    }
    out();
    out(`Temporal Web UI: ${uiLink}`);
    out(`Status JSON:     ${apiUrl}/videos/${videoId}`);
    out(`Dashboard:       ${apiUrl}/  (CLI: npx biblio status ${videoId})`);
    if (exitWhenDone) return shutdown(0);
    out('\nRunning — the API, workers and Web UI stay up. Press Ctrl-C to stop.');
    await Promise.race(procs.map((p) => p.exited.then(() => assertAlive([p]))));
  } catch (err) {
    if (stopping) return;
    process.stderr.write(`\n${(err as Error).message}\n`);
    return shutdown(1);
  }
}

async function waitForPollers(client: Client, queues: TaskQueues, procs: ManagedProcess[]) {
  await waitFor('every worker to poll its task queue', 60_000, async () => {
    await assertAlive(procs);
    for (const role of QUEUE_ROLES) {
      const kind = role === 'pipeline' ? 'workflow' : 'activity';
      if ((await pollerCount(client, queues[role], kind)) === 0) return undefined;
    }
    return true;
  });
}

main().catch((err: Error) => {
  process.stderr.write(`${err instanceof DemoError || err instanceof ProcessDiedError ? '' : 'demo failed: '}${err.message}\n`);
  process.exit(1);
});
