/**
 * The soak's own stack on loopback: a Temporal dev server on disk (so it can be killed -9 and
 * restarted with its runs), a PostgreSQL server of its own (embedded, on a temp dir) holding a fresh
 * database, a MinIO of its own holding the objects (bench/soak/object-store.ts; the local disk
 * store when no MinIO can be had), one process per worker kind, the in-process API, the OpenAI fault server
 * and a source server for URL uploads; the media worker in a lab host of its own where one can be made
 * (worker-host.ts). Everything it starts is stopped by `stop()`.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { QueueRole } from '../../src/pipeline/catalogue';
import type { TestApi } from '../../test/support/api';
import { startDiskTemporal, type DiskTemporal } from '../../test/support/disk-temporal';
import { DisposablePostgres } from '../../test/support/disposable-postgres';
import { faultProvider } from '../../test/support/fault-provider';
import { startOpenAiFaultServer, type OpenAiFaultServer } from '../../test/support/openai-fault-server';
import { startStack, type Stack } from '../../test/support/stack';
import type { WorkerProcesses } from '../../test/support/workers';
import { startSourceServer, type SourceServer } from './inputs';
import { startSoakObjectStore, type SoakObjectStore } from './object-store';
import { mountScratchDisk, type ScratchDisk } from './scratch-disk';
import { startWorkerHost, type WorkerHost } from './worker-host';

export const ROLES: readonly QueueRole[] = ['pipeline', 'media', 'ai', 'index'];

export interface SoakStack {
  stack: Stack;
  temporal: DiskTemporal;
  /** The workers' scratch dir on a tmpfs of its own (filled by the scratch-disk-full fault). */
  scratchDisk: ScratchDisk;
  /** The run's own PostgreSQL server (stopped and started by the restart-postgres fault). */
  postgres: DisposablePostgres;
  /** Where the objects live: a MinIO of its own (restarted by the restart-minio fault), or the disk store and why. */
  objects: SoakObjectStore;
  /** The lab host one worker kind runs in (cut by the cut-worker-network fault); `problem` when there is none. */
  workerHost: WorkerHost;
  client: Client;
  api: TestApi;
  fault: OpenAiFaultServer;
  sources: SourceServer;
  /** Where generated inputs are written (the API's ingest dir: file sources name them). */
  ingestDir: string;
  dataDir: string;
  /** Exists while the vector-store fault is on (BIBLIO_TEST_VECTOR_FAULT_FILE). */
  vectorFaultFile: string;
  /** The worker process of each kind now (restarts replace it). */
  worker(role: QueueRole): WorkerProcesses;
  /** Everything the role's worker processes wrote this run, the replaced ones first. */
  workerLog(role: QueueRole): string;
  /** Stops the role's process with `signal` (SIGKILL: no drain) and starts a new one; resolves when it is ready. */
  restartWorker(role: QueueRole, signal: NodeJS.Signals): Promise<void>;
  setVectorFault(on: boolean): Promise<void>;
  stop(): Promise<void>;
  /** Synchronous last resort (hard cap, Ctrl-C): SIGKILL to the Temporal group and every worker process. */
  killNow(): void;
}

export async function startSoakStack(o: { brokenBuild: boolean }): Promise<SoakStack> {
  // A PostgreSQL server of its own (the shared one on 5432 stays up for everyone else), so the
  // restart-postgres fault can stop and start it; the stack creates its database there.
  const pg = await DisposablePostgres.create();
  const sharedAdmin = process.env.TEST_DATABASE_URL;
  process.env.TEST_DATABASE_URL = pg.adminUrl;
  const restoreAdmin = () => {
    if (sharedAdmin === undefined) delete process.env.TEST_DATABASE_URL;
    else process.env.TEST_DATABASE_URL = sharedAdmin;
  };
  const stack = await startStack({ name: 'soak', temporal: false }).catch(async (err: unknown) => {
    restoreAdmin();
    await pg.destroy();
    throw err;
  });
  const stopAll = async () => {
    try {
      await stack.stop();
    } finally {
      restoreAdmin();
      await pg.destroy();
    }
  };
  try {
    const { dataDir, ingestDir } = stack;
    const objects = await startSoakObjectStore();
    stack.onStop(() => objects.stop());
    // Before the workers start: their scratch dir is on it from their first attempt.
    const scratchDisk = await mountScratchDisk(dataDir);
    stack.onStop(() => scratchDisk.unmount());
    const temporalDir = path.join(dataDir, 'temporal');
    await mkdir(temporalDir, { recursive: true });
    // Short long-polls: pollers come back within seconds of a server restart.
    const temporal = await startDiskTemporal(temporalDir, ['--dynamic-config-value', 'matching.longPollExpirationInterval="5s"']);
    stack.onStop(() => temporal.kill());
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    stack.onStop(() => client.connection.close().catch(() => undefined));
    const fault = await startOpenAiFaultServer();
    stack.onStop(() => fault.close());
    const sources = await startSourceServer(ingestDir);
    stack.onStop(() => sources.close());
    // Every endpoint the lab host's worker talks to, reached through the lab's gateway (another
    // loopback service the workers use, e.g. an S3 endpoint, goes in this list too).
    const workerHost = await startWorkerHost({
      endpoints: [
        temporal.address,
        pg.url,
        fault.url,
        sources.url('x', false),
        // The media worker reads and writes objects, and fetches presigned URLs, on MinIO.
        ...(objects.backend === 's3' ? [objects.minio.endpoint] : []),
      ],
    });
    stack.onStop(() => workerHost.stop());

    const provider = faultProvider(fault);
    const vectorFaultFile = path.join(dataDir, 'vector-store-down');
    const workerEnv: NodeJS.ProcessEnv = {
      ...provider.env,
      ...objects.workerEnv,
      BIBLIO_TEST_VECTOR_FAULT_FILE: vectorFaultFile,
      ...(o.brokenBuild ? { BIBLIO_TEST_BROKEN_BUILD: 'keep-points-of-deleted' } : {}),
    };
    const workers = new Map<QueueRole, WorkerProcesses>();
    // The output of the role's earlier processes (restarts replace them): the evidence of a violation.
    const pastOutput = new Map<QueueRole, string[]>();
    const startRole = async (role: QueueRole) => {
      const before = workers.get(role)?.output.get(role);
      if (before) pastOutput.set(role, [...(pastOutput.get(role) ?? []), before]);
      workers.set(
        role,
        await stack.startWorkers([role], { temporalAddress: temporal.address, extraEnv: workerEnv, wrap: workerHost.wrap(role) }),
      );
    };
    for (const role of ROLES) await startRole(role);
    const api = await stack.startApi({
      client,
      openai: provider.openai,
      ssrfAllow: ['127.0.0.1'],
      ...(objects.storage ? { storage: objects.storage } : {}),
    });

    const worker = (role: QueueRole) => {
      const w = workers.get(role);
      if (!w) throw new Error(`no ${role} worker`);
      return w;
    };
    return {
      stack,
      temporal,
      client,
      api,
      fault,
      sources,
      ingestDir,
      dataDir,
      vectorFaultFile,
      worker,
      workerLog: (role) => [...(pastOutput.get(role) ?? []), workers.get(role)?.output.get(role) ?? ''].join(''),
      async restartWorker(role, signal) {
        const child = worker(role).procs.get(role);
        if (child && child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill(signal);
          await exited;
        }
        await startRole(role);
      },
      setVectorFault: (on) => (on ? writeFile(vectorFaultFile, 'down\n') : rm(vectorFaultFile, { force: true })),
      stop: stopAll,
      postgres: pg,
      objects,
      scratchDisk,
      workerHost,
      killNow() {
        const kill = (pid: number | undefined) => {
          try {
            if (pid) process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        };
        kill(temporal.pid === undefined ? undefined : -temporal.pid);
        pg.killNow();
        objects.killNow();
        for (const w of workers.values()) for (const child of w.procs.values()) kill(child.pid);
        workerHost.killNow();
      },
    };
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}
