import { z } from 'zod';
import type { ConfigArea } from './area';
import { nonNegativeInt, positiveInt } from './fields';

export const workersArea = {
  title: 'Worker processes',
  about: 'Slots per worker process (one process per task queue) and how a worker stops.',
  variables: z.object({
    MEDIA_CONCURRENCY: positiveInt
      .default(1)
      .describe('Media activities (transcode, HLS, analysis inputs) one media worker process runs at once.'),
    AI_CONCURRENCY: positiveInt.default(4).describe('Analyses one AI worker process runs at once.'),
    INDEX_CONCURRENCY: positiveInt.default(4).describe('Index, delete and reconcile activities one indexer worker process runs at once.'),
    PIPELINE_CONCURRENCY: positiveInt.default(20).describe('Workflow tasks one pipeline worker process runs at once.'),
    WORKER_SHUTDOWN_GRACE_MS: nonNegativeInt
      .default(10_000)
      .describe('Milliseconds SIGTERM lets in-flight work drain before the worker cancels it and exits.'),
    MEDIA_HEARTBEAT_TIMEOUT_MS: positiveInt
      .default(10_000)
      .describe(
        'Heartbeat timeout of the transcode step in milliseconds: how fast a dead media worker is noticed (the encode heartbeats every second; generous because ffmpeg can starve the event loop on 2 cores).',
      ),
    WORKER_LEASE_TTL_MS: nonNegativeInt
      .default(2_500)
      .describe(
        "How long a media worker's liveness lease outlives its last renewal, by the database's clock: a SIGKILLed or frozen media worker's attempts are failed and retried this long (plus up to one renewal period) after it stopped. Above the longest event-loop stall a loaded worker shows (bench/heartbeat-gap.ts); 0 turns the detector off and leaves only the heartbeat timeout.",
      ),
    WORKER_LEASE_RENEW_MS: positiveInt
      .default(1_000)
      .describe(
        "Milliseconds between renewals of a media worker's lease, and between two checks of the lease watchdog (media and pipeline workers) for attempts of expired leases.",
      ),
  }),
} satisfies ConfigArea;

export function workersConfig(e: z.output<typeof workersArea.variables>) {
  return {
    workers: {
      mediaConcurrency: e.MEDIA_CONCURRENCY,
      aiConcurrency: e.AI_CONCURRENCY,
      indexConcurrency: e.INDEX_CONCURRENCY,
      pipelineConcurrency: e.PIPELINE_CONCURRENCY,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
      mediaHeartbeatTimeoutMs: e.MEDIA_HEARTBEAT_TIMEOUT_MS,
      leaseTtlMs: e.WORKER_LEASE_TTL_MS,
      leaseRenewMs: e.WORKER_LEASE_RENEW_MS,
    },
  };
}
