import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { WORKERS, type QueueRole } from '../../src/pipeline/catalogue';

const DIST = path.resolve(__dirname, '..', '..', 'dist');

export interface WorkerProcesses {
  procs: Map<QueueRole, ChildProcess>;
  /** Everything each worker printed: shown when a test fails. */
  output: Map<QueueRole, string>;
  stop(): Promise<void>;
}

export interface WorkerEnv {
  temporalAddress: string;
  databaseUrl: string;
  dataDir: string;
  queuePrefix: string;
  extraEnv?: NodeJS.ProcessEnv;
  /**
   * Run the product's own defaults for everything HARNESS_TUNING sets (ffmpeg threads and preset,
   * shutdown grace): the tests that prove real uploads go ready as users run them.
   */
  productDefaults?: boolean;
  /** How long each worker may take to report ready (slow on a loaded machine, slower without dist/workflow-bundle.js). */
  readyTimeoutMs?: number;
  /** A command the worker runs under, e.g. `ip netns exec <ns>` for a host of a multi-host lab (it execs: the pid stays the worker's). */
  wrap?: string[];
}

/**
 * The only product defaults the harness changes for every worker, each for a reason. Every other
 * setting (heartbeat and stall timeouts, segment length, AI timeouts and backoff) is the product's:
 * a test that needs another value passes it itself and says why.
 */
export const HARNESS_TUNING: NodeJS.ProcessEnv = {
  // Two cores: leave one to the Temporal server so heartbeats are not starved; and the fastest
  // preset (the product's is veryfast): tests check what an encode produces, not its quality.
  FFMPEG_THREADS: '1',
  FFMPEG_PRESET: 'ultrafast',
  // A file's stop() waits at most 2 s for in-flight work (the product drains for 10 s).
  WORKER_SHUTDOWN_GRACE_MS: '2000',
};

/**
 * Starts the real worker entry points (the same files production runs) as child processes
 * and resolves once each reports it is polling. Tests drive the system through them rather
 * than through in-process doubles.
 */
export async function startWorkers(roles: QueueRole[], e: WorkerEnv): Promise<WorkerProcesses> {
  const procs = new Map<QueueRole, ChildProcess>();
  const output = new Map<QueueRole, string>();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: e.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    DATABASE_URL: e.databaseUrl,
    BIBLIO_DATA_DIR: e.dataDir,
    BIBLIO_QUEUE_PREFIX: e.queuePrefix,
    BIBLIO_LOG_LEVEL: 'info',
    ...(e.productDefaults ? {} : HARNESS_TUNING),
    OPENAI_API_KEY: '',
    OPENAI_BASE_URL: '',
    // Tests' source servers listen on loopback; the SSRF test overrides this with nothing allowed.
    BIBLIO_SSRF_ALLOW: '127.0.0.1',
    ...e.extraEnv,
  };
  const ready = roles.map((role) => {
    const file = path.join(DIST, WORKERS[role].entry);
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm test\` (it builds dist/) or \`npm run build\``);
    const [command = process.execPath, ...args] = [...(e.wrap ?? []), process.execPath, file];
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.set(role, child);
    output.set(role, '');
    const append = (chunk: Buffer) => output.set(role, (output.get(role) ?? '') + chunk.toString());
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    return new Promise<void>((resolve, reject) => {
      const readyMs = e.readyTimeoutMs ?? 120_000;
      const timer = setTimeout(() => reject(new Error(`${role} worker not ready in ${readyMs / 1000} s:\n${output.get(role)}`)), readyMs);
      const onData = () => {
        if (output.get(role)?.includes('"msg":"worker ready"')) {
          clearTimeout(timer);
          child.stdout?.off('data', onData);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${role} worker exited with ${code} before it was ready:\n${output.get(role)}`));
      });
    });
  });
  const stop = async () => {
    await Promise.all(
      [...procs.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    await Promise.all(ready);
  } catch (err) {
    await stop();
    throw err;
  }
  return { procs, output, stop };
}

/**
 * The part times (ms) the media worker logged for `videoId`'s last media task
 * (src/activities/media/media-step.ts): the history shows only the whole task. Undefined when
 * none was logged (a run recorded before the coarse-media patch logs none).
 */
export function mediaStepPartsOf(workers: WorkerProcesses, videoId: string): Record<string, number> | undefined {
  let last: Record<string, number> | undefined;
  for (const line of (workers.output.get('media') ?? '').split('\n')) {
    if (!line.includes('"media step parts"')) continue;
    const entry = JSON.parse(line) as { videoId?: string; partsMs?: Record<string, number> };
    if (entry.videoId === videoId) last = entry.partsMs;
  }
  return last;
}
