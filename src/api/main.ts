// API process: validates requests, registers uploads and starts/queries workflows.
import { createAnalyzer } from '../adapters/analyzer';
import { createVectorStore } from '../adapters/vector-store';
import { loadConfig } from '../config';
import { createPool, ensureDatabase, migrate } from '../db/database';
import { createRepositories } from '../db/repositories';
import { createLogger } from '../logging';
import { taskQueues } from '../pipeline/catalogue';
import { connectClient } from '../temporal/connection';
import { buildApp } from './app';
import { DeadLetterService } from '../app/dead-letter-service';
import { VideoService } from '../app/video-service';
import { wireOps } from './ops-wiring';
import { createStorage } from '../adapters/storage';
import { LocalObjectStorage } from '../adapters/storage/local-storage';
import { OutageTolerantKeys } from './outage-tolerant-keys';
import { SsrfPolicy } from '../net/ssrf-guard';
import { loadDataConverter } from '../temporal/data-converter';
import { priceTable } from '../app/usage-report';
import { loadUrlSealer } from '../security/sealed-url';

async function main() {
  const config = loadConfig();
  // Before any connection: a bad AI_PRICE_TABLE stops the start with its problem named.
  const usagePrices = priceTable(config.ai.priceTable);
  const log = createLogger('api', config.logLevel);
  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl);
  const pool = createPool(config.databaseUrl);
  // The composition root: every service and route below shares these repositories.
  const repos = createRepositories(pool);
  const vectorStore = await createVectorStore(config);
  const client = await connectClient({ dataConverter: await loadDataConverter(config) });
  const queues = taskQueues(config.queuePrefix);
  const ops = wireOps({ client, pool, queues, config, log });
  const storage = await createStorage(config);
  const ssrf = new SsrfPolicy(config.ssrfAllow);
  const sealer = await loadUrlSealer(config);
  const service = new VideoService({
    client,
    repos,
    analyzer: createAnalyzer(config),
    vectorStore,
    queues,
    ingestDir: config.ingestDir,
    temporalUiUrl: config.temporalUiUrl,
    mediaHeartbeatTimeoutMs: config.workers.mediaHeartbeatTimeoutMs,
    workflowExecutionTimeoutMs: config.ops.workflowExecutionTimeoutMs,
    queueStats: ops.queueStats,
    storage,
    ssrf,
    sourceRefreshDeadlineMs: config.sourceRefreshDeadlineMs,
    sealer,
  });
  const deadLetters = new DeadLetterService({
    client,
    deadLetters: repos.deadLetters,
    ingestDir: config.ingestDir,
    temporalUiUrl: config.temporalUiUrl,
  });
  const app = buildApp(service, {
    logger: {
      level: config.logLevel,
      base: { component: 'api', pid: process.pid },
      // Query strings carry signatures of signed transfers: never logged.
      serializers: { req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url.split('?')[0] }) },
    },
    deadLetters,
    ops: ops.deps,
    library: { pool, temporalUiUrl: config.temporalUiUrl, namespace: client.options.namespace, storage },
    usagePrices,
    maxEventStreams: config.api.maxEventStreams,
    auth: config.authEnabled ? { keys: new OutageTolerantKeys(repos.apiKeys) } : { disabled: true },
    uploads: {
      storage,
      maxUploadBytes: config.storage.maxUploadBytes,
      uploadUrlTtlSec: config.storage.uploadUrlTtlSec,
      multipartThresholdBytes: config.storage.multipartThresholdBytes,
      multipartPartBytes: config.storage.multipartPartBytes,
    },
    localStorage: storage instanceof LocalObjectStorage ? storage : undefined,
    refresh: true,
  });
  const outbox = ops.startOutbox(service);
  if (!config.authEnabled) log.warn('BIBLIO_AUTH=off: every caller is treated as an operator');
  try {
    await app.listen({ host: config.api.host, port: config.api.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'EADDRINUSE'
        ? `port ${config.api.port} on ${config.api.host} is taken; stop whatever uses it or set API_PORT`
        : (err as Error).message,
    );
  }
  log.info({ url: `http://${config.api.host}:${config.api.port}` }, 'api ready');

  const stop = async () => {
    await outbox.stop();
    await app.close();
    await client.connection.close();
    await vectorStore.close();
    await storage.close();
    await pool.end();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`[api] ${err.message}`);
  process.exit(1);
});
