// CPU-bound: transcodes on the `media` queue. Concurrency defaults to 1 — ffmpeg uses every core it gets.
import {
  createAnalysisInputsActivities,
  createHlsActivities,
  createMediaActivities,
  createMediaStepActivities,
  createSegmentActivities,
  createStoryboardActivities,
  sweepAnalysisScratch,
  sweepHlsStaging,
} from '../activities/media';
import { rescueQueueOf, segmentQueueOf } from '../pipeline/catalogue';
import { createLogger } from '../logging';
import { parentDeathSignalHelper } from '../media/run-process';
import { sweepStaleSegmentAreas } from '../media/segment-area';
import { sweepStaleScratch } from '../media/work-area';
import { WORK_CACHE_LINGER_MS } from '../media/work-store';
import { createStorage } from '../adapters/storage';
import { SsrfPolicy } from '../net/ssrf-guard';
import { loadUrlSealer } from '../security/sealed-url';
import { runWorkerProcess } from './run-worker';
import { timedTranscode, writableDir } from './observability';

/** Longer than any media attempt may run (start-to-close 2 h) and than a run's segments take. */
const SEGMENT_AREA_MAX_AGE_MS = 24 * 3600 * 1000;

runWorkerProcess('media', async (config, _log, metrics) => {
  const log = createLogger('worker:media', config.logLevel);
  // Work dirs of attempts whose worker died (SIGKILL, crash, reboot) are swept before polling.
  const storage = await createStorage(config);
  const swept = [
    ...(await sweepStaleScratch(config.tmpDir)),
    ...(await sweepAnalysisScratch(config.artifactsDir, { everyVideo: storage.backend === 's3' })),
  ];
  if (swept.length) log.info({ swept }, 'swept work dirs of dead attempts');
  const sweptHls = await sweepHlsStaging(config.mediaDir);
  if (sweptHls.length) log.info({ swept: sweptHls }, 'swept half-built HLS ladders of dead attempts');
  // Segment work areas of runs that ended without cleaning up (terminated, reset): a day untouched.
  const areas = await sweepStaleSegmentAreas(config.tmpDir, SEGMENT_AREA_MAX_AGE_MS);
  if (areas.length) log.info({ areas }, 'swept segment work areas of ended runs');
  const pdeathsig = parentDeathSignalHelper();
  if (pdeathsig) log.info({ helper: pdeathsig }, 'ffmpeg runs with a parent-death signal: it dies with this worker, even on SIGKILL');
  else
    log.warn(
      'setpriv (util-linux) not found: ffmpeg is still killed on cancel, shutdown and normal exit, but would outlive a SIGKILLed worker; install util-linux',
    );
  const mediaDeps = {
    ffmpeg: config.ffmpeg,
    mediaDir: config.mediaDir,
    tmpDir: config.tmpDir,
    maxSourceBytes: config.api.maxSourceBytes,
    ingestDir: config.ingestDir,
    stallTimeoutMs: config.media.stallTimeoutMs,
    // Consecutive segments of one video on this worker reuse its cached source copy.
    cacheLingerMs: WORK_CACHE_LINGER_MS,
    limits: config.media.limits,
    sourceIdleTimeoutMs: config.media.sourceIdleTimeoutMs,
    sourceMinBytesPerSec: config.media.sourceMinBytesPerSec,
    storage,
    ssrf: new SsrfPolicy(config.ssrfAllow),
    sealer: await loadUrlSealer(config),
  };
  // Plan/audio/join run on `media`; single segments on `<media>-segments`.
  const segments = createSegmentActivities({ ...mediaDeps, segmentSec: config.media.segmentSec });
  const parts = {
    ...createMediaActivities(mediaDeps),
    ...segments,
    // Keyframes + audio for the AI step.
    ...createAnalysisInputsActivities({
      ffmpeg: config.ffmpeg,
      artifactsDir: config.artifactsDir,
      mediaDir: config.mediaDir,
      stallTimeoutMs: config.media.stallTimeoutMs,
      storage: mediaDeps.storage,
      ...config.ai,
    }),
    // The adaptive HLS ladder, packaged from the published MP4.
    ...createHlsActivities({
      ffmpeg: config.ffmpeg,
      mediaDir: config.mediaDir,
      stallTimeoutMs: config.media.stallTimeoutMs,
      storage: mediaDeps.storage,
    }),
    // Scrub previews (sprite sheets + WebVTT thumbnail track), cut from the published MP4.
    ...createStoryboardActivities({
      ffmpeg: config.ffmpeg,
      tmpDir: config.tmpDir,
      mediaDir: config.mediaDir,
      storage: mediaDeps.storage,
      settings: config.media.storyboard,
      stallTimeoutMs: config.media.stallTimeoutMs,
    }),
  };
  // The parts run as one task for new runs; alone for runs recorded before (src/workflows/media-step.ts).
  const activities = { ...parts, ...createMediaStepActivities({ ...parts, transcode: timedTranscode(metrics, parts.transcode) }) };
  return {
    options: {
      activities,
      maxConcurrentActivityTaskExecutions: config.workers.mediaConcurrency,
      // A cancel reaches an activity only in a heartbeat's reply, and the stall and kill tests read
      // progress from the server's copy of the heartbeat: one per second. (5 s would cut the heartbeat
      // RPCs to a fifth now that watchers read the status feed, but a short encode then shows the
      // server no progress at all; see docs/benchmarks.md#orchestration.)
      maxHeartbeatThrottleInterval: '1s',
    },
    // One segment at a time per process by default (ffmpeg already uses the cores): several media
    // workers share a video's segments, and a SIGKILL loses at most this process's one segment.
    extraWorkers: [
      {
        taskQueue: segmentQueueOf,
        options: {
          activities: { encodeSegment: segments.encodeSegment },
          maxConcurrentActivityTaskExecutions: config.media.segmentSlots,
          maxHeartbeatThrottleInterval: '1s',
        },
      },
      // Retries of a lost worker's attempts (any media activity): one slot beside the others, so a
      // retry starts at once even while every regular slot is busy; a brief second ffmpeg is the price.
      {
        taskQueue: rescueQueueOf,
        options: { activities, maxConcurrentActivityTaskExecutions: 1, maxHeartbeatThrottleInterval: '1s' },
      },
    ],
    // A SIGKILLed media worker's attempts are retried within seconds (src/workers/liveness.ts).
    liveness: { lease: true, watchdog: true, rescueQueue: rescueQueueOf },
    // Readiness: renditions and temp files must be writable.
    checks: { mediaDir: () => writableDir(config.mediaDir), tmpDir: () => writableDir(config.tmpDir) },
  };
});
