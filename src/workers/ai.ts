// I/O-bound and rate-limited: analysis on the `ai` queue, isolated so a slow AI service
// cannot hold media or index work.
import { createResilientAnalyzer } from '../adapters/analyzer';
import { createAiActivities } from '../activities/ai';
import { createStorage } from '../adapters/storage';
import { createPool } from '../db/database';
import { createRepositories } from '../db/repositories';
import { runWorkerProcess } from './run-worker';

runWorkerProcess('ai', async (config) => {
  // The response cache and (without REDIS_URL) the shared rate limit live in the main DB.
  const pool = createPool(config.databaseUrl, 4);
  const { analyzer, close } = createResilientAnalyzer(config, pool);
  // The data plane: inputs come from it, the embedding artifact goes to it.
  const storage = await createStorage(config);
  return {
    options: {
      activities: createAiActivities({
        analyzer,
        artifactsDir: config.artifactsDir,
        storage,
        deferrals: createRepositories(pool).aiDeferrals,
        resilience: {
          backoff: { baseMs: config.ai.retryBaseMs, capMs: config.ai.retryMaxMs },
          degradeAfterMs: config.ai.degradeAfterMs,
          reanalyzeDelaysMs: config.ai.reanalyzeDelaysMs,
        },
      }),
      maxConcurrentActivityTaskExecutions: config.workers.aiConcurrency,
    },
    close: async () => {
      await close();
      await storage.close();
      await pool.end();
    },
  };
});
