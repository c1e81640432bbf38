// DB-bound: writes PostgreSQL and the vector store on the `index` queue.
// (Named indexer.ts, not index.ts, which would read as the folder's entry.)
import path from 'node:path';
import { createStorage } from '../adapters/storage';
import { createVectorStore } from '../adapters/vector-store';
import { createIndexerActivities } from '../activities/indexer';
import { PgAdvisoryLock } from '../db/advisory-lock';
import { createPool } from '../db/database';
import { createRepositories } from '../db/repositories';
import { createLogger } from '../logging';
import { taskQueues } from '../pipeline/catalogue';
import { connectClient } from '../temporal/connection';
import { loadDataConverter } from '../temporal/data-converter';
import { ensureReconcileSchedule } from '../temporal/reconcile-schedule';
import { runWorkerProcess } from './run-worker';

runWorkerProcess('index', async (config) => {
  // +2: the advisory-lock holder needs its own connection next to the activities' queries.
  const pool = createPool(config.databaseUrl, config.workers.indexConcurrency + 2);
  // Every index worker writes LanceDB under a PostgreSQL advisory lock per table, so two
  // index processes never both insert a new id.
  const vectorStore = await createVectorStore({ ...config, lock: new PgAdvisoryLock(pool) });
  // The reconciler's schedule is created here, not in the API: its work runs on this queue,
  // with this process's data dir and store, and every deployment runs an index worker while
  // the API may be replaced (CLI) or scaled out. Idempotent across several index workers.
  const log = createLogger('worker:index', config.logLevel);
  const storage = await createStorage(config);
  const client = await connectClient({ dataConverter: await loadDataConverter(config) });
  const { scheduleId, created } = await ensureReconcileSchedule(client, config, taskQueues(config.queuePrefix));
  log.info({ scheduleId, created, intervalMs: config.reconcile.intervalMs }, 'reconcile schedule ensured');
  await client.connection.close();
  return {
    options: {
      activities: createIndexerActivities({
        pool,
        repos: createRepositories(pool),
        vectorStore,
        dirs: {
          mediaDir: config.mediaDir,
          artifactsDir: config.artifactsDir,
          tmpDir: config.tmpDir,
          ingestDir: config.ingestDir,
          // Partial uploads of the local store (its receive() streams there); S3 has its own lifecycle.
          uploadTmpDir: config.storage.backend === 'local' ? path.join(config.storage.localRoot, '.tmp') : undefined,
        },
        storage,
        hooks:
          config.index.testStallAfterCommit.length > 0
            ? { stallAfterCommit: config.index.testStallAfterCommit, markerDir: path.join(config.dataDir, 'test-markers') }
            : undefined,
        brokenBuild: config.index.testBrokenBuild,
      }),
      maxConcurrentActivityTaskExecutions: config.workers.indexConcurrency,
    },
    // Readiness: this worker is only useful while both stores answer.
    checks: {
      database: () => pool.query('SELECT 1').then(() => undefined),
      vectorStore: () => vectorStore.search({ analyzer: 'readiness', model: 'probe', dim: 1 }, [1], 1).then(() => undefined),
    },
    close: async () => {
      await vectorStore.close();
      await storage.close();
      await pool.end();
    },
  };
});
