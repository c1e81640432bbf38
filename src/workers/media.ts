// CPU-bound: transcodes on the `media` queue. Concurrency defaults to 1 — ffmpeg uses every core it gets.
import { createMediaActivities } from '../activities/media';
import { createStorage } from '../adapters/storage';
import { SsrfPolicy } from '../net/ssrf-guard';
import { runWorkerProcess } from './run-worker';

runWorkerProcess('media', async (config) => ({
  options: {
    activities: createMediaActivities({
      ffmpeg: config.ffmpeg,
      mediaDir: config.mediaDir,
      tmpDir: config.tmpDir,
      maxSourceBytes: config.api.maxSourceBytes,
      storage: await createStorage(config),
      ssrf: new SsrfPolicy(config.ssrfAllow),
    }),
    maxConcurrentActivityTaskExecutions: config.workers.mediaConcurrency,
    // Progress rides on heartbeats; the default throttle (0.8 × heartbeat timeout) would show it in 24 s jumps.
    maxHeartbeatThrottleInterval: '1s',
  },
}));
