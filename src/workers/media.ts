// CPU-bound: transcodes on the `media` queue. Concurrency defaults to 1 — ffmpeg uses every core it gets.
import { createMediaActivities } from '../activities/media';
import { createAnalysisInputsActivities } from '../activities/media/analysis-inputs';
import { runWorkerProcess } from './run-worker';

runWorkerProcess('media', async (config) => ({
  options: {
    activities: {
      ...createMediaActivities({
        ffmpeg: config.ffmpeg,
        mediaDir: config.mediaDir,
        tmpDir: config.tmpDir,
        maxSourceBytes: config.api.maxSourceBytes,
      }),
      // Issue 16: keyframes + audio for the AI step.
      ...createAnalysisInputsActivities({ ffmpeg: config.ffmpeg, artifactsDir: config.artifactsDir, ...config.ai }),
    },
    maxConcurrentActivityTaskExecutions: config.workers.mediaConcurrency,
    // Progress rides on heartbeats; the default throttle (0.8 × heartbeat timeout) would show it in 24 s jumps.
    maxHeartbeatThrottleInterval: '1s',
  },
}));
