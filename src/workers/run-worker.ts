import os from 'node:os';
import { Client } from '@temporalio/client';
import { Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../config';
import { createLogger, temporalLogger } from '../logging';
import { taskQueues, type QueueRole } from '../pipeline/catalogue';
import { connectWorker } from '../temporal/connection';
import {
  activityObservability,
  createWorkerMetrics,
  freePort,
  startHealthServer,
  type HealthChecks,
  type WorkerMetrics,
} from './observability';
import { loadDataConverter } from '../temporal/data-converter';
import { StatusFeed } from './status-feed';
import { createPool } from '../db/database';
import { livenessFor } from './liveness';

export interface WorkerPlan {
  /** Options beyond connection/queue/identity: activities, workflows, concurrency. */
  options: Omit<WorkerOptions, 'connection' | 'taskQueue' | 'namespace' | 'identity'>;
  /** Releases what the activities hold (pools, stores) after the worker has drained. */
  close?: () => Promise<void>;
  /** Readiness checks of the stores this worker needs: /readyz is false while one fails. */
  checks?: HealthChecks;
  /**
   * More Workers in the same process, each on its own task queue with its own options (the
   * media process also serves `<media>-segments` with its own slot count). They share the
   * connection, identity, shutdown and health of the main one.
   */
  extraWorkers?: { taskQueue: (main: string) => string; options: WorkerPlan['options'] }[];
  /**
   * Worker liveness (src/workers/liveness.ts): `lease` lists this process's activity attempts
   * under a lease it renews; `watchdog` fails the attempts of expired leases in Temporal.
   */
  liveness?: { lease?: boolean; watchdog?: boolean; rescueQueue?: (main: string) => string };
}

/**
 * The shared life cycle of every worker process: one task queue, its own concurrency,
 * graceful drain on SIGINT/SIGTERM, a clear one-line error instead of a stack trace when
 * something it needs is missing.
 */
export function runWorkerProcess(
  role: QueueRole,
  plan: (config: Config, log: Logger, metrics: WorkerMetrics) => Promise<WorkerPlan>,
): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(`[${role} worker] ${(err as Error).message}`);
    process.exit(2);
  }
  const log = createLogger(`worker:${role}`, config.logLevel);
  const taskQueue = taskQueues(config.queuePrefix)[role];

  const main = async () => {
    // Explicit signals: the default list includes SIGQUIT/SIGUSR2, and we want a second Ctrl-C to kill.
    const health = config.ops.workerHealth;
    const sdkMetricsPort = health.port !== null ? await freePort() : undefined;
    Runtime.install({
      logger: temporalLogger(log),
      shutdownSignals: ['SIGINT', 'SIGTERM'],
      // The SDK's own metrics (slots, poll latency, schedule-to-start…), merged into our /metrics.
      ...(sdkMetricsPort ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } } } : {}),
    });
    const metrics = createWorkerMetrics(role);
    const built = await plan(config, log, metrics);
    // What GET /videos/:id reads instead of asking Temporal (src/workers/status-feed.ts).
    const feed = StatusFeed.connect(config.databaseUrl);
    const { connection, namespace } = await connectWorker();
    const identity = `${role}@${os.hostname()}:${process.pid}`;
    const dataConverter = await loadDataConverter(config);
    // Its own two connections: a renewal never waits behind the status feed's writes.
    const livenessPool = built.liveness ? createPool(config.databaseUrl, 2) : undefined;
    const { lease, watchdog } = livenessPool
      ? livenessFor({
          pool: livenessPool,
          identity,
          settings: { ttlMs: config.workers.leaseTtlMs, renewMs: config.workers.leaseRenewMs },
          log,
          lease: built.liveness?.lease === true,
          rescueQueue: built.liveness?.rescueQueue?.(taskQueue),
          watchdog: built.liveness?.watchdog ? new Client({ connection, namespace, dataConverter, identity }) : undefined,
        })
      : {};
    let worker: Worker | undefined;
    const extras: Worker[] = [];
    const server =
      health.port !== null
        ? await startHealthServer({
            role,
            host: health.host,
            port: health.port,
            metrics,
            sdkMetricsUrl: sdkMetricsPort ? `http://127.0.0.1:${sdkMetricsPort}/metrics` : undefined,
            // Every Worker of the process counts: the first one not RUNNING names the state.
            workerState: () => {
              const states = [worker, ...extras].map((w) => w?.getState() ?? 'INITIALIZED');
              return states.find((st) => st !== 'RUNNING') ?? 'RUNNING';
            },
            connection: () => connection,
            checks: built.checks ?? {},
            log,
          })
        : undefined;
    try {
      const create = async (queue: string, options: WorkerPlan['options']) =>
        Worker.create({
          ...options,
          interceptors: {
            ...options.interceptors,
            activity: [
              activityObservability(metrics),
              feed.interceptor(),
              ...(lease ? [lease.interceptor()] : []),
              ...(options.interceptors?.activity ?? []),
            ],
          },
          ...(role === 'pipeline' ? { sinks: { ...options.sinks, ...feed.sinks() } } : {}),
          connection,
          namespace,
          taskQueue: queue,
          identity,
          // URLs in payloads are encrypted: every client and worker shares the codec.
          dataConverter,
          shutdownGraceTime: config.workers.shutdownGraceMs,
        });
      // The lease is held before the first task is polled, so every attempt can be listed under it.
      await lease?.start();
      watchdog?.start();
      worker = await create(taskQueue, built.options);
      extras.push(...(await Promise.all((built.extraWorkers ?? []).map((x) => create(x.taskQueue(taskQueue), x.options)))));
      log.info(
        { taskQueue, extraQueues: extras.map((x) => x.options.taskQueue), namespace, healthPort: server?.port ?? null },
        'worker ready',
      );
      // The Runtime shuts every Worker down on SIGTERM; the process ends when all have drained.
      await Promise.all([worker.run(), ...extras.map((x) => x.run())]);
      log.info({ taskQueue }, 'worker stopped');
    } finally {
      watchdog?.stop();
      await lease?.stop();
      await livenessPool?.end().catch(() => undefined);
      await server?.close();
      await connection.close();
      await built.close?.();
      await feed.close().catch(() => undefined);
    }
  };

  main().then(
    () => process.exit(0),
    (err: Error) => {
      log.error({ failure: { type: err.name, message: err.message } }, `${role} worker failed: ${err.message}`);
      process.exit(1);
    },
  );
}
