import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { ApiKeysRepo } from '../../src/db/api-keys-repo';
import type { TestDatabase } from './database';
import { startStack, type Stack } from './stack';
import type { WorkerProcesses } from './workers';

const API_ENTRY = path.resolve(__dirname, '..', '..', 'dist', 'api', 'main.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

export interface HttpStack {
  apiUrl: string;
  dataDir: string;
  ingestDir: string;
  /** Environment a client process on this machine would have (ingest dir, data dir). */
  clientEnv: NodeJS.ProcessEnv;
  /** An operator key (every route but health and the dashboard's files needs one). */
  apiKey: string;
  env: TestWorkflowEnvironment;
  db: TestDatabase;
  workers: WorkerProcesses;
  /** More worker processes on this stack (a replacement for a killed one), stopped with it. */
  startWorkers: Stack['startWorkers'];
  apiOutput(): string;
  stop(): Promise<void>;
}

/**
 * Everything a person would talk to: Temporal dev server, a fresh database, the four worker
 * processes (the fixture of test/support/stack.ts) and the real API process (dist/api/main.js)
 * listening on a free port. `env` goes to the API and every worker (over these defaults).
 */
export async function startHttpStack(
  name: string,
  options: { env?: NodeJS.ProcessEnv; productDefaults?: boolean; temporalArgs?: string[] } = {},
): Promise<HttpStack> {
  const stack = await startStack({
    name,
    // Extra dev-server flags (e.g. bench/orchestration.ts's --metrics-port): a server of its own.
    ...(options.temporalArgs ? { temporal: { extraArgs: options.temporalArgs } } : {}),
    workers: ['pipeline', 'media', 'ai', 'index'],
    workerEnv: options.env,
    productDefaults: options.productDefaults,
  });
  const { dataDir, ingestDir, prefix, temporal: env, db } = stack;
  const port = await freePort();
  const apiEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    DATABASE_URL: db.url,
    BIBLIO_DATA_DIR: dataDir,
    BIBLIO_INGEST_DIR: ingestDir,
    BIBLIO_QUEUE_PREFIX: prefix,
    API_HOST: '127.0.0.1',
    API_PORT: String(port),
    BIBLIO_LOG_LEVEL: 'warn',
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
    ...options.env,
  };
  let output = '';
  const api: ChildProcess = spawn(process.execPath, [API_ENTRY], { env: apiEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  api.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  api.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  // The API process goes first: nothing starts new runs while the workers drain.
  const stopApi = async () => {
    if (api.exitCode !== null || api.signalCode !== null) return;
    const exited = new Promise((r) => api.once('exit', r));
    api.kill('SIGTERM');
    await exited;
  };
  const stop = async () => {
    await stopApi();
    await stack.stop();
  };
  try {
    const apiUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (api.exitCode !== null) throw new Error(`API exited with ${api.exitCode}:\n${output}`);
      const ok = await fetch(`${apiUrl}/health`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`API not up in 60 s:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const apiKey = (await new ApiKeysRepo(db.pool).create('operator', `test-${name}`)).key;
    return {
      apiUrl,
      dataDir,
      ingestDir,
      apiKey,
      clientEnv: { ...process.env, BIBLIO_DATA_DIR: dataDir, BIBLIO_INGEST_DIR: ingestDir, BIBLIO_API_URL: apiUrl, BIBLIO_API_KEY: apiKey },
      env,
      db,
      workers: stack.workers,
      startWorkers: (roles, o) => stack.startWorkers(roles, o),
      apiOutput: () => output,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
