// CPU-bound: transcodes on the `media` queue. Concurrency defaults to 1 — ffmpeg uses every core it gets.
import { createMediaActivities } from '../activities/media';
import { runWorkerProcess } from './run-worker';

runWorkerProcess('media', async (config) => ({
  options: {
    activities: createMediaActivities({
      ffmpeg: config.ffmpeg,
      mediaDir: config.mediaDir,
      tmpDir: config.tmpDir,
      maxSourceBytes: config.api.maxSourceBytes,
    }),
    maxConcurrentActivityTaskExecutions: config.workers.mediaConcurrency,
  },
}));
