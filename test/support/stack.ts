import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { taskQueues, type QueueRole, type TaskQueues } from '../../src/pipeline/catalogue';
import { startApi, type TestApi } from './api';
import { createTestDatabase, type TestDatabase } from './database';
import { fileHasFailed } from './file-failed';
import { startOpsApi, type OpsApi } from './ops';
import { startTemporal } from './temporal';
import { startWorkers, type WorkerEnv, type WorkerProcesses } from './workers';

/**
 * What startApi takes beyond what the stack wires itself (pool, dirs; queues and the Temporal
 * client unless given: a file that runs its own server passes a client of it).
 */
export type StackApiOptions = Omit<Parameters<typeof startApi>[0], 'client' | 'pool' | 'dataDir' | 'ingestDir' | 'queues'> & {
  queues?: TaskQueues;
  client?: Client;
};
export type StackOpsApiOptions = Omit<Parameters<typeof startOpsApi>[0], 'client' | 'pool' | 'dataDir' | 'ingestDir' | 'queues'> & {
  queues?: TaskQueues;
  client?: Client;
};

/** Per call overrides of the worker environment the stack gives by default. */
export type StackWorkerOptions = Partial<Omit<WorkerEnv, 'extraEnv'>> & {
  /** Over the stack's `workerEnv` (which stays), for these processes only. */
  extraEnv?: NodeJS.ProcessEnv;
};

export interface StackOptions {
  /** Names the temp dir (`biblio-<name>-`) and the file's queue prefix (`t<pid>-<name>-`). */
  name: string;
  /**
   * A Temporal dev server of the file's own (the default), one started with extra server
   * arguments, or none (a file that runs its own, e.g. to kill it, passes `temporalAddress`
   * to the workers it starts).
   */
  temporal?: boolean | { extraArgs: string[] };
  /** A fresh migrated database (the default), an existing one (kept at stop), or none. */
  database?: boolean | { url: string };
  /** An existing data dir (kept at stop) instead of a fresh temp dir. */
  dataDir?: string;
  /** Worker processes to start with the stack; `startWorkers` starts more (restarts, other env). */
  workers?: QueueRole[];
  /** Environment of every worker process the stack starts, over test/support/workers.ts's defaults. */
  workerEnv?: NodeJS.ProcessEnv;
  /** Workers run the product's defaults, without the harness's tuning (test/support/workers.ts HARNESS_TUNING). */
  productDefaults?: boolean;
  /** The in-process HTTP app of test/support/api.ts. */
  api?: StackApiOptions;
  /** The in-process HTTP app with admission, metrics and the start outbox (test/support/ops.ts). */
  opsApi?: StackOpsApiOptions;
}

export interface Stack {
  readonly prefix: string;
  readonly queues: TaskQueues;
  readonly dataDir: string;
  /** `<dataDir>/ingest`, the workers' and the API's ingest dir (created). */
  readonly ingestDir: string;
  /** Each getter throws when the stack was started without that part, rather than hand back undefined. */
  readonly temporal: TestWorkflowEnvironment;
  readonly db: TestDatabase;
  /** The processes of `options.workers`. */
  readonly workers: WorkerProcesses;
  readonly api: TestApi;
  readonly opsApi: OpsApi;
  /** More worker processes on this stack, stopped (and their output shown) with it. */
  startWorkers(roles: QueueRole[], options?: StackWorkerOptions): Promise<WorkerProcesses>;
  /** Another in-process API on this stack, closed with it. */
  startApi(options?: StackApiOptions): Promise<TestApi>;
  startOpsApi(options?: StackOpsApiOptions): Promise<OpsApi>;
  /** Runs at stop after the APIs and workers are down, before Temporal and the database go; last added first. */
  onStop(fn: () => Promise<unknown> | unknown): void;
  /** Tears everything down in order, even past a failing step (whose error it then throws). */
  stop(): Promise<void>;
}

/** The stack's queue prefix, for code that needs it before the stack is up (describe bodies). */
export function queuePrefix(name: string): string {
  return `t${process.pid}-${name}-`;
}

/**
 * The set-up integration files share: temp dirs, a Temporal dev server, a fresh database, the
 * real worker processes on the file's own queue prefix and the in-process API, with one `stop()`
 * that undoes all of it in order. A file that fails half-way through its start leaks nothing.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const prefix = queuePrefix(options.name);
  const queues = taskQueues(prefix);
  const ownDataDir = options.dataDir === undefined;
  // Canonical path: the API resolves file sources with realpath, and tests compare against it.
  const dataDir = options.dataDir ?? (await realpath(await mkdtemp(path.join(os.tmpdir(), `biblio-${options.name}-`))));
  const ingestDir = path.join(dataDir, 'ingest');
  await mkdir(ingestDir, { recursive: true });

  let temporal: TestWorkflowEnvironment | undefined;
  let db: TestDatabase | undefined;
  let initialWorkers: WorkerProcesses | undefined;
  let api: TestApi | undefined;
  let opsApi: OpsApi | undefined;
  const apis: { close(): Promise<void> }[] = [];
  const workerSets: WorkerProcesses[] = [];
  const stopHooks: (() => Promise<unknown> | unknown)[] = [];

  const need = <T>(part: T | undefined, what: string): T => {
    if (part === undefined) throw new Error(`this stack has no ${what}: ask startStack for it`);
    return part;
  };
  const databaseUrl = () => (typeof options.database === 'object' ? options.database.url : need(db, 'database').url);
  const apiWiring = (client?: Client) => ({
    client: client ?? need(temporal, 'Temporal server (or a client)').client,
    pool: need(db, 'database').pool,
    dataDir,
    ingestDir,
    queues,
  });

  const stack: Stack = {
    prefix,
    queues,
    dataDir,
    ingestDir,
    get temporal() {
      return need(temporal, 'Temporal server');
    },
    get db() {
      return need(db, 'database');
    },
    get workers() {
      return need(initialWorkers, 'workers (options.workers)');
    },
    get api() {
      return need(api, 'API (options.api or startApi)');
    },
    get opsApi() {
      return need(opsApi, 'ops API (options.opsApi or startOpsApi)');
    },
    async startWorkers(roles, w = {}) {
      const { extraEnv, ...env } = w;
      const started = await startWorkers(roles, {
        temporalAddress: env.temporalAddress ?? need(temporal, 'Temporal server (or temporalAddress)').address,
        databaseUrl: env.databaseUrl ?? databaseUrl(),
        dataDir: env.dataDir ?? dataDir,
        queuePrefix: env.queuePrefix ?? prefix,
        readyTimeoutMs: env.readyTimeoutMs,
        wrap: env.wrap,
        productDefaults: env.productDefaults ?? options.productDefaults,
        extraEnv: { BIBLIO_INGEST_DIR: ingestDir, ...options.workerEnv, ...extraEnv },
      });
      workerSets.push(started);
      return started;
    },
    async startApi(a = {}) {
      const { client, ...rest } = a;
      const started = await startApi({ ...apiWiring(client), ...rest });
      apis.push(started);
      api ??= started;
      return started;
    },
    async startOpsApi(a = {}) {
      const { client, ...rest } = a;
      const started = await startOpsApi({ ...apiWiring(client), ...rest });
      apis.push(started);
      opsApi ??= started;
      return started;
    },
    onStop(fn) {
      stopHooks.push(fn);
    },
    stop: () => teardown(false),
  };

  async function teardown(startFailed: boolean): Promise<void> {
    if (showWorkerLogs(startFailed))
      for (const set of workerSets) for (const [role, text] of set.output) console.log(`--- ${role} worker ---\n${text.slice(-8000)}`);
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<unknown> | unknown) => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    // Front to back: nothing starts new work while the parts under it go away.
    for (const a of apis.splice(0).reverse()) await step(() => a.close());
    await step(() => Promise.all(workerSets.splice(0).map((w) => w.stop())));
    for (const fn of stopHooks.splice(0).reverse()) await step(fn);
    // Forgotten once gone: a second stop() does not tear down twice.
    const [t, d] = [temporal, db];
    [temporal, db] = [undefined, undefined];
    if (t) await step(() => t.teardown());
    if (d) await step(() => d.drop());
    if (ownDataDir) await step(() => rm(dataDir, { recursive: true, force: true }));
    if (errors.length) throw errors[0];
  }

  try {
    if (options.temporal !== false)
      temporal = await startTemporal(typeof options.temporal === 'object' ? options.temporal.extraArgs : undefined);
    if (options.database === undefined || options.database === true) db = await createTestDatabase();
    if (options.workers?.length) initialWorkers = await stack.startWorkers(options.workers);
    if (options.api) await stack.startApi(options.api);
    if (options.opsApi) await stack.startOpsApi(options.opsApi);
  } catch (err) {
    await teardown(true).catch(() => undefined);
    throw err;
  }
  return stack;
}

/**
 * SHOW_WORKER_LOGS=1 prints what each worker process said when the stack failed to start or a test
 * of the file failed (the fastest way to a failure's cause); SHOW_WORKER_LOGS=always prints it in
 * any case.
 */
function showWorkerLogs(startFailed: boolean): boolean {
  const show = process.env.SHOW_WORKER_LOGS;
  if (!show) return false;
  return show === 'always' || startFailed || fileHasFailed() !== false;
}
