import os from 'node:os';
import { Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { loadConfig, type Config } from '../config';
import { createLogger, temporalLogger } from '../logging';
import { taskQueues, type QueueRole } from '../queues';
import { connectWorker } from '../temporal/connection';
import { loadDataConverter } from '../temporal/data-converter';

export interface WorkerPlan {
  /** Options beyond connection/queue/identity: activities, workflows, concurrency. */
  options: Omit<WorkerOptions, 'connection' | 'taskQueue' | 'namespace' | 'identity'>;
  /** Releases what the activities hold (pools, stores) after the worker has drained. */
  close?: () => Promise<void>;
}

/**
 * The shared life cycle of every worker process: one task queue, its own concurrency,
 * graceful drain on SIGINT/SIGTERM, a clear one-line error instead of a stack trace when
 * something it needs is missing.
 */
export function runWorkerProcess(role: QueueRole, plan: (config: Config) => Promise<WorkerPlan>): void {
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
    Runtime.install({ logger: temporalLogger(log), shutdownSignals: ['SIGINT', 'SIGTERM'] });
    const built = await plan(config);
    const { connection, namespace } = await connectWorker();
    try {
      const worker = await Worker.create({
        ...built.options,
        connection,
        namespace,
        taskQueue,
        identity: `${role}@${os.hostname()}:${process.pid}`,
        // URLs in payloads are encrypted (issue 18): every client and worker shares the codec.
        dataConverter: await loadDataConverter(config),
        shutdownGraceTime: config.workers.shutdownGraceMs,
      });
      log.info({ taskQueue, namespace }, 'worker ready');
      await worker.run();
      log.info({ taskQueue }, 'worker stopped');
    } finally {
      await connection.close();
      await built.close?.();
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
