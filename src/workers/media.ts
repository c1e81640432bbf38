// CPU-bound: transcodes on the `media` queue. Concurrency defaults to 1 — ffmpeg uses every core it gets.
import { createMediaActivities } from '../activities/media';
import { runWorkerProcess } from './run-worker';
import { writableDir } from './observability';

runWorkerProcess('media', async (config) => ({
  options: {
    activities: createMediaActivities({
      ffmpeg: config.ffmpeg,
      mediaDir: config.mediaDir,
      tmpDir: config.tmpDir,
      maxSourceBytes: config.api.maxSourceBytes,
    }),
    maxConcurrentActivityTaskExecutions: config.workers.mediaConcurrency,
    // Progress rides on heartbeats; the default throttle (0.8 × heartbeat timeout) would show it in 24 s jumps.
    maxHeartbeatThrottleInterval: '1s',
  },
  // Readiness (issue 19): renditions and temp files must be writable.
  checks: { mediaDir: () => writableDir(config.mediaDir), tmpDir: () => writableDir(config.tmpDir) },
}));
