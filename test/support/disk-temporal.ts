import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { freePort } from '../../src/workers/observability';
import { waitFor } from './ops';
import { temporalCliPath } from './temporal';

/**
 * A Temporal dev server whose history lives in a SQLite file under `dir`, in its own process
 * group, so a caller can kill -9 it and start it again on the same port with the same runs
 * (TestWorkflowEnvironment's server keeps history in memory and cannot be restarted).
 */
export interface DiskTemporal {
  readonly address: string;
  readonly pid: number | undefined;
  /** SIGKILL to the whole group (the CLI and the server it runs); resolves once it exited. */
  kill(): Promise<void>;
  /** Starts it again after kill() (same port, same file) and waits until it answers. */
  start(): Promise<void>;
  /** kill() then start(). */
  restart(): Promise<void>;
}

export async function startDiskTemporal(dir: string, extraArgs: string[] = []): Promise<DiskTemporal> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  let server: ChildProcess | undefined;
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--port',
    String(port),
    '--db-filename',
    path.join(dir, 'temporal.sqlite'),
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    '--log-level',
    'error',
    ...extraArgs,
  ];
  const up = () =>
    waitFor(
      'Temporal dev server up',
      async () => {
        const c = await Connection.connect({ address, connectTimeout: 500 });
        try {
          await c.withDeadline(Date.now() + 1_000, () => c.workflowService.getSystemInfo({}));
          return true;
        } finally {
          await c.close();
        }
      },
      60_000,
      200,
    );
  const kill = (): Promise<void> => {
    const s = server;
    if (!s || s.exitCode !== null || s.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      s.once('exit', () => resolve());
      process.kill(-s.pid!, 'SIGKILL');
    });
  };
  const start = async () => {
    // detached: a group of its own, so kill(-pid) takes the server the CLI forks with it.
    server = spawn(temporalCliPath(), args, { stdio: 'ignore', detached: true });
    // One that never answers is not left behind: the caller has no handle on it yet.
    await up().catch(async (err: unknown) => {
      await kill();
      throw err;
    });
  };
  await start();
  return {
    address,
    get pid() {
      return server?.pid;
    },
    kill,
    start,
    restart: async () => {
      await kill();
      await start();
    },
  };
}
