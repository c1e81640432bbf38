import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { ActivityInterceptorsFactory, NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueRole } from '../pipeline/catalogue';
import { temporalDeadlineIn, withTemporalDeadline } from '../temporal/deadline';

/**
 * Each worker process's operations surface: GET /metrics (this process's metrics plus
 * the Temporal SDK's own Prometheus exporter, merged into one scrape), GET /healthz (liveness:
 * the worker has not failed) and GET /readyz (readiness: the worker is polling, Temporal answers,
 * and the stores this worker writes answer). Off unless WORKER_HEALTH_PORT is set (0 = any free
 * port, printed in the "worker ready" log line).
 */
export type HealthChecks = Record<string, () => Promise<void>>;

export interface WorkerMetrics {
  registry: Registry;
  stepDuration: Histogram<'step' | 'outcome'>;
  stepAttempts: Counter<'step' | 'outcome'>;
  transcodeSpeed: Histogram;
}

export function createWorkerMetrics(role: QueueRole): WorkerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: 'biblio_worker_' });
  return {
    registry,
    stepDuration: new Histogram({
      name: 'biblio_step_duration_seconds',
      help: 'Wall time of one activity attempt, by step (activity type) and outcome',
      labelNames: ['step', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: [registry],
    }),
    stepAttempts: new Counter({
      name: 'biblio_step_attempts_total',
      help: 'Activity attempts run by this worker, by step and outcome',
      labelNames: ['step', 'outcome'],
      registers: [registry],
    }),
    transcodeSpeed: new Histogram({
      name: 'biblio_transcode_speed_ratio',
      help: 'Seconds of media transcoded per second of wall time (× realtime)',
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
  };
}

/**
 * Times every activity attempt and tags the activity logger's lines with the video id and step,
 * so every log line of every worker names the video (workflow/run id and attempt come from the
 * SDK's own log attributes).
 */
export function activityObservability(metrics: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx) => {
    const step = ctx.info.activityType;
    let videoId: string | undefined;
    return {
      inbound: {
        async execute(input, next) {
          const first = input.args[0] as { videoId?: unknown } | undefined;
          if (typeof first?.videoId === 'string') videoId = first.videoId;
          const started = process.hrtime.bigint();
          const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
          try {
            const out = await next(input);
            const took = seconds();
            metrics.stepDuration.observe({ step, outcome: 'ok' }, took);
            metrics.stepAttempts.inc({ step, outcome: 'ok' });
            if (step === 'transcode') observeTranscodeSpeed(metrics, out, took);
            return out;
          } catch (err) {
            metrics.stepDuration.observe({ step, outcome: 'failed' }, seconds());
            metrics.stepAttempts.inc({ step, outcome: 'failed' });
            throw err;
          }
        },
      },
      outbound: {
        getLogAttributes(attrs, next) {
          return next({ ...attrs, ...(videoId ? { videoId } : {}), step });
        },
      },
    };
  };
}

function observeTranscodeSpeed(metrics: WorkerMetrics, out: unknown, tookSec: number): void {
  const mediaSec = (out as { rendition?: { durationSec?: unknown } } | undefined)?.rendition?.durationSec;
  if (typeof mediaSec === 'number' && tookSec > 0) metrics.transcodeSpeed.observe(mediaSec / tookSec);
}

/**
 * The single pass timed for `biblio_transcode_speed_ratio` when it runs inside `prepareMedia`
 * (src/activities/media/media-step.ts), where the interceptor above sees only the whole step.
 */
export function timedTranscode<I, O>(metrics: WorkerMetrics, transcode: (input: I) => Promise<O>): (input: I) => Promise<O> {
  return async (input) => {
    const started = process.hrtime.bigint();
    const out = await transcode(input);
    observeTranscodeSpeed(metrics, out, Number(process.hrtime.bigint() - started) / 1e9);
    return out;
  };
}

/** A free loopback port for the SDK's Prometheus exporter (Runtime.install needs an address). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(surface: {
  role: QueueRole;
  host: string;
  port: number;
  metrics: WorkerMetrics;
  /** Where the SDK's Prometheus exporter listens (merged into /metrics). */
  sdkMetricsUrl?: string;
  workerState: () => string;
  connection: () => NativeConnection | undefined;
  checks: HealthChecks;
  log: Logger;
}): Promise<HealthServer> {
  const readiness = async () => {
    const state = surface.workerState();
    const checks: Record<string, { ok: boolean; error?: string }> = {
      worker: state === 'RUNNING' ? { ok: true } : { ok: false, error: `worker state ${state}` },
    };
    const conn = surface.connection();
    const all: HealthChecks = {
      temporal: async () => {
        if (!conn) throw new Error('not connected');
        await withTemporalDeadline(conn, () => conn.workflowService.getSystemInfo({}), temporalDeadlineIn(2_000));
      },
      ...surface.checks,
    };
    await Promise.all(
      Object.entries(all).map(async ([name, fn]) => {
        checks[name] = await bounded(fn);
      }),
    );
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };

  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    (async () => {
      if (path === '/metrics') {
        const own = await surface.metrics.registry.metrics();
        const sdk = surface.sdkMetricsUrl
          ? await fetch(surface.sdkMetricsUrl, { signal: AbortSignal.timeout(2_000) })
              .then((r) => r.text())
              .catch(() => '')
          : '';
        return send(200, `${own}\n${sdk}`, surface.metrics.registry.contentType);
      }
      if (path === '/healthz') {
        const state = surface.workerState();
        const alive = state !== 'FAILED' && state !== 'STOPPED';
        return send(alive ? 200 : 503, { alive, role: surface.role, state, pid: process.pid });
      }
      if (path === '/readyz') {
        const r = await readiness();
        return send(r.ready ? 200 : 503, { ...r, role: surface.role });
      }
      return send(404, { error: { type: 'RouteNotFound', message: `no route ${req.method} ${path}`, videoId: null, hint: null } });
    })().catch((err: Error) => send(500, { error: { type: 'InternalError', message: err.message, videoId: null, hint: null } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(surface.port, surface.host, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function bounded(fn: () => Promise<void>, ms = 2_500): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
      }),
    ]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split('\n')[0] };
  } finally {
    clearTimeout(timer);
  }
}

/** A readiness check: the directory exists (created if missing) and this process may write it. */
export async function writableDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await access(dir, constants.W_OK);
}
