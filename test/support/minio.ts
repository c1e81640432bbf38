import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** The MinIO binary (npm test exports MINIO_BIN; a bare `npx jest` resolves or builds it here), or undefined. */
export function minioPath(): string | undefined {
  if (process.env.MINIO_BIN) return process.env.MINIO_BIN;
  try {
    const resolved = execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-minio.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    process.env.MINIO_BIN = resolved;
    return resolved;
  } catch {
    return undefined;
  }
}

export interface MinioServer {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The server's process id (benchmarks read its CPU time). */
  pid: number | undefined;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** A real MinIO server on a free port with a temporary data dir; undefined (and a loud message) when none can be had. */
export async function startMinio(): Promise<MinioServer | undefined> {
  const bin = minioPath();
  if (!bin) {
    console.warn('\n*** MinIO is not available (scripts/ensure-minio.sh failed): the S3 storage tests are SKIPPED ***\n');
    return undefined;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-minio-'));
  const [port, consolePort] = [await freePort(), await freePort()];
  const child = await spawnLive(bin, dir, port, consolePort);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    pid: child.pid,
    stop: async () => {
      await terminate(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A MinIO server that can be killed and started again on the same data dir and port (the soak's
 * restart-minio fault): what it stored survives, and clients keep their endpoint.
 */
export interface RestartableMinio extends MinioServer {
  /** The process now (a restart replaces it); undefined while it is down. */
  readonly pid: number | undefined;
  dataDir: string;
  /** SIGKILL, no shutdown: resolves once the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same data dir and port; resolves once it is live. */
  start(): Promise<void>;
  /** Synchronous last resort (a runner's hard cap): SIGKILL, the data dir stays. */
  killNow(): void;
}

/** Like startMinio, restartable; undefined when no MinIO binary can be had (the caller says so). */
export async function startRestartableMinio(): Promise<RestartableMinio | undefined> {
  const bin = minioPath();
  if (!bin) return undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-minio-'));
  const [port, consolePort] = [await freePort(), await freePort()];
  let child: ChildProcess | undefined = await spawnLive(bin, dir, port, consolePort).catch(async (err: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw err;
  });
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    dataDir: dir,
    get pid() {
      return child?.pid;
    },
    kill,
    async start() {
      if (child) throw new Error('MinIO is running already');
      child = await spawnLive(bin, dir, port, consolePort);
    },
    killNow() {
      try {
        child?.kill('SIGKILL');
      } catch {
        // gone already
      }
    },
    async stop() {
      const c = child;
      child = undefined;
      if (c) await terminate(c);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const ACCESS_KEY_ID = 'biblio-test';
const SECRET_ACCESS_KEY = 'biblio-test-secret-key';

/** Starts `minio server` on the dir and ports; resolves once its health endpoint answers (30 s at most). */
async function spawnLive(bin: string, dir: string, port: number, consolePort: number): Promise<ChildProcess> {
  let output = '';
  const child: ChildProcess = spawn(
    bin,
    ['server', dir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    {
      env: { ...process.env, MINIO_ROOT_USER: ACCESS_KEY_ID, MINIO_ROOT_PASSWORD: SECRET_ACCESS_KEY, MINIO_BROWSER: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`MinIO exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${endpoint}/minio/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`MinIO not live in 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM, SIGKILL after 5 s; resolves once it exited. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(t);
}
