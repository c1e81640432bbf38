import { Client, type ClientInterceptors } from '@temporalio/client';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { Pool } from 'pg';
import { createAnalyzer } from '../../src/adapters/analyzer';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import type { ObjectStorage } from '../../src/adapters/storage/port';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { buildApp } from '../../src/api/app';
import { DeadLetterService } from '../../src/app/dead-letter-service';
import { VideoService } from '../../src/app/video-service';
import type { Role } from '../../src/auth/roles';
import { loadConfig, type OpenAiConfig } from '../../src/config';
import { createRepositories } from '../../src/db/repositories';
import type { ApiKeysRepo } from '../../src/db/api-keys-repo';
import { SsrfPolicy } from '../../src/net/ssrf-guard';
import type { TaskQueues } from '../../src/pipeline/catalogue';
import { loadSecret } from '../../src/security/dev-secrets';
import { loadDataConverter } from '../../src/temporal/data-converter';
import { loadUrlSealer } from '../../src/security/sealed-url';

/** The product's defaults, as a process with nothing configured would load them. */
const PRODUCT = loadConfig({});

export interface TestApi {
  /** The app; `inject` sends an operator key unless the request sets its own authorization header. */
  app: FastifyInstance;
  /** The same app without the default key (auth tests). */
  raw: FastifyInstance;
  /** The operator key `app.inject` uses. */
  key: string;
  keys: ApiKeysRepo;
  /** A client with the workers' payload codec (so it reads what they write). */
  client: Client;
  storage: ObjectStorage;
  createKey(role: Role): Promise<string>;
  close(): Promise<void>;
}

/** The real HTTP app, in-process (requests via inject), wired like src/api/main.ts — auth on, with a key. */
export async function startApi(o: {
  client: Client;
  pool: Pool;
  dataDir: string;
  ingestDir: string;
  queues: TaskQueues;
  openai?: OpenAiConfig;
  mediaHeartbeatTimeoutMs?: number;
  /** Private hosts URL sources may reach; tests' local servers listen on loopback. */
  ssrfAllow?: string[];
  storage?: ObjectStorage;
  sourceRefreshDeadlineMs?: number;
  /** How long DELETE waits for the deletion saga before answering 202. */
  deleteWaitMs?: number;
  /** Upload cap (default 50 MiB here); the resumable-upload test sends 200 MB. */
  maxUploadBytes?: number;
  /** On the API's Temporal client, e.g. to count what a read asks Temporal (status-feed.test.ts). */
  interceptors?: ClientInterceptors;
  /** Concurrent status event streams (default: the product's); status-events.test.ts reaches the bound with 1. */
  maxEventStreams?: number;
}): Promise<TestApi> {
  const vectorStore = await LanceDbVectorStore.open(`${o.dataDir}/lancedb`);
  // Same key as the workers started with BIBLIO_DATA_DIR=dataDir: URLs in history are encrypted.
  const client = new Client({
    connection: o.client.connection,
    namespace: o.client.options.namespace,
    dataConverter: await loadDataConverter({ dataDir: o.dataDir }),
    interceptors: o.interceptors,
  });
  const storage =
    o.storage ??
    new LocalObjectStorage({
      root: `${o.dataDir}/objects`,
      secret: await loadSecret(undefined, o.dataDir, 'storage-signing-key'),
      publicBaseUrl: 'http://127.0.0.1:3000',
    });
  const ssrf = new SsrfPolicy(o.ssrfAllow ?? ['127.0.0.1']);
  const sealer = await loadUrlSealer({ dataDir: o.dataDir });
  const repos = createRepositories(o.pool);
  const service = new VideoService({
    client,
    repos,
    analyzer: createAnalyzer({ openai: o.openai }),
    vectorStore,
    queues: o.queues,
    ingestDir: o.ingestDir,
    temporalUiUrl: 'http://localhost:8233',
    // The product's default (config), not a test value: a media activity that cannot keep its
    // heartbeat on a loaded machine must fail here as it would for users.
    mediaHeartbeatTimeoutMs: o.mediaHeartbeatTimeoutMs ?? PRODUCT.workers.mediaHeartbeatTimeoutMs,
    storage,
    ssrf,
    sourceRefreshDeadlineMs: o.sourceRefreshDeadlineMs ?? PRODUCT.sourceRefreshDeadlineMs,
    workflowExecutionTimeoutMs: PRODUCT.ops.workflowExecutionTimeoutMs,
    deleteWaitMs: o.deleteWaitMs,
    // The workers of this data dir load the same generated key.
    sealer,
  });
  const deadLetters = new DeadLetterService({
    client,
    deadLetters: repos.deadLetters,
    ingestDir: o.ingestDir,
    temporalUiUrl: 'http://localhost:8233',
  });
  const keys = repos.apiKeys;
  const raw = buildApp(service, {
    deadLetters,
    library: { pool: o.pool, storage },
    auth: { keys },
    uploads: { storage, maxUploadBytes: o.maxUploadBytes ?? 50 * 1024 * 1024, uploadUrlTtlSec: 900 },
    localStorage: storage instanceof LocalObjectStorage ? storage : undefined,
    refresh: true,
    maxEventStreams: o.maxEventStreams ?? PRODUCT.api.maxEventStreams,
  });
  await raw.ready();
  const key = (await keys.create('operator', 'test')).key;
  const withKey = (opts: InjectOptions | string): InjectOptions => {
    const base: InjectOptions = typeof opts === 'string' ? { method: 'GET', url: opts } : opts;
    const headers = { ...(base.headers ?? {}) } as Record<string, string>;
    if (!('authorization' in headers)) headers.authorization = `Bearer ${key}`;
    return { ...base, headers };
  };
  const app = new Proxy(raw, {
    get(target, prop, receiver) {
      if (prop === 'inject') return (opts: InjectOptions | string) => target.inject(withKey(opts));
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return {
    app,
    raw,
    key,
    keys,
    client,
    storage,
    createKey: async (role) => (await keys.create(role, `test-${role}`)).key,
    close: async () => {
      await raw.close();
      await vectorStore.close();
    },
  };
}
