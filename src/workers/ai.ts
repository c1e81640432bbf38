// I/O-bound and rate-limited: analysis on the `ai` queue, isolated so a slow AI service
// cannot hold media or index work.
import { createAnalyzer } from '../adapters/analyzer';
import { createAiActivities } from '../activities/ai';
import { runWorkerProcess } from './run-worker';

runWorkerProcess('ai', async (config) => ({
  options: {
    activities: createAiActivities({ analyzer: createAnalyzer(config), artifactsDir: config.artifactsDir }),
    maxConcurrentActivityTaskExecutions: config.workers.aiConcurrency,
  },
}));
