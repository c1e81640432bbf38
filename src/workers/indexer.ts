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
    close: async () => {
      await vectorStore.close();
      await pool.end();
    },
  };
});
