// API process: validates requests, registers uploads and starts/queries workflows.
import { createAnalyzer } from '../adapters/analyzer';
import { createVectorStore } from '../adapters/vector-store';
import { loadConfig } from '../config';
import { createPool, ensureDatabase, migrate } from '../db/database';
import { createLogger } from '../logging';
import { taskQueues } from '../queues';
import { connectClient } from '../temporal/connection';
import { DeletionService } from '../app/deletion-service';
import { SearchService } from '../app/search-service';
import { VideosRepo } from '../db/videos-repo';
import { buildApp } from './app';
import { VideoService } from './video-service';

async function main() {
  const config = loadConfig();
  const log = createLogger('api', config.logLevel);
  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl);
  const pool = createPool(config.databaseUrl);
  const vectorStore = await createVectorStore(config);
  const client = await connectClient();
  const analyzer = createAnalyzer(config);
  const queues = taskQueues(config.queuePrefix);
  const service = new VideoService({
    client,
    pool,
    videos: new VideosRepo(pool),
    analyzer,
    vectorStore,
    queues,
    ingestDir: config.ingestDir,
    temporalUiUrl: config.temporalUiUrl,
    mediaHeartbeatTimeoutMs: config.workers.mediaHeartbeatTimeoutMs,
  });
  const app = buildApp(service, {
    logger: { level: config.logLevel, base: { component: 'api', pid: process.pid } },
    search: new SearchService({ pool, analyzer, vectorStore }),
    deletion: new DeletionService({ client, pool, queues }),
  });
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
    await app.close();
    await client.connection.close();
    await vectorStore.close();
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
