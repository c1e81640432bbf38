// DB-bound: writes PostgreSQL and the vector store on the `index` queue.
// (Named indexer.ts, not index.ts, which would read as the folder's entry.)
import { createVectorStore } from '../adapters/vector-store';
import { createIndexerActivities } from '../activities/indexer';
import { createPool } from '../db/database';
import { runWorkerProcess } from './run-worker';

runWorkerProcess('index', async (config) => {
  const pool = createPool(config.databaseUrl, config.workers.indexConcurrency + 1);
  const vectorStore = await createVectorStore(config);
  return {
    options: {
      activities: createIndexerActivities({ pool, vectorStore }),
      maxConcurrentActivityTaskExecutions: config.workers.indexConcurrency,
    },
    // Readiness (issue 19): this worker is only useful while both stores answer.
    checks: {
      database: () => pool.query('SELECT 1').then(() => undefined),
      vectorStore: () => vectorStore.search({ analyzer: 'readiness', model: 'probe', dim: 1 }, [1], 1).then(() => undefined),
    },
    close: async () => {
      await vectorStore.close();
      await pool.end();
    },
  };
});
