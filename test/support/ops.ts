import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { OfflineAnalyzer } from '../../src/adapters/analyzer/offline-analyzer';
import { loadUrlSealer } from '../../src/security/sealed-url';
import { buildApp } from '../../src/api/app';
import { wireOps } from '../../src/api/ops-wiring';
import type { OutboxSweeper } from '../../src/app/start-outbox';
import { VideoService } from '../../src/app/video-service';
import { createRepositories } from '../../src/db/repositories';
import { loadConfig } from '../../src/config';
import type { TaskQueues } from '../../src/pipeline/catalogue';

export interface OpsApi {
  app: FastifyInstance;
  service: VideoService;
  ops: ReturnType<typeof wireOps>;
  outbox: OutboxSweeper;
  close(): Promise<void>;
}

/** The real HTTP app wired like src/api/main.ts, including admission, metrics, health and the start outbox. */
export async function startOpsApi(o: {
  client: Client;
  pool: Pool;
  dataDir: string;
  ingestDir: string;
  queues: TaskQueues;
  /** Environment-style overrides of the ops settings (ADMISSION_MAX_BACKLOG, …). */
  env?: Record<string, string>;
  startDeadlineMs?: number;
}): Promise<OpsApi> {
  const config = loadConfig({ OUTBOX_SWEEP_MS: '0', ...o.env });
  const ops = wireOps({ client: o.client, pool: o.pool, queues: o.queues, config });
  const vectorStore = await LanceDbVectorStore.open(`${o.dataDir}/lancedb`);
  const service = new VideoService({
    client: o.client,
    repos: createRepositories(o.pool),
    analyzer: new OfflineAnalyzer(),
    vectorStore,
    queues: o.queues,
    ingestDir: o.ingestDir,
    temporalUiUrl: 'http://localhost:8233',
    mediaHeartbeatTimeoutMs: config.workers.mediaHeartbeatTimeoutMs,
    startDeadlineMs: o.startDeadlineMs,
    workflowExecutionTimeoutMs: config.ops.workflowExecutionTimeoutMs,
    queueStats: ops.queueStats,
    sealer: await loadUrlSealer({ dataDir: o.dataDir }),
  });
  // These tests are about admission, metrics and health; API keys have their own tests
  // (uploads-auth.test.ts), so auth is off here the one way it can be: explicitly.
  const app = buildApp(service, { ops: ops.deps, auth: { disabled: true } });
  await app.ready();
  const outbox = ops.startOutbox(service);
  return {
    app,
    service,
    ops,
    outbox,
    close: async () => {
      await outbox.stop();
      await app.close();
      await vectorStore.close();
    },
  };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

/** One sample of a Prometheus text exposition, e.g. sample(text, 'biblio_queue_backlog_count', {queue: 'media'}). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const matches = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (matches) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}
