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
  const accessKeyId = 'biblio-test';
  const secretAccessKey = 'biblio-test-secret-key';
  let output = '';
  const child: ChildProcess = spawn(
    bin,
    ['server', dir, '--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`, '--quiet'],
    {
      env: { ...process.env, MINIO_ROOT_USER: accessKeyId, MINIO_ROOT_PASSWORD: secretAccessKey, MINIO_BROWSER: 'off' },
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
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`MinIO not live in 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await gone;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
