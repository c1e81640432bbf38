// The price of the data plane in object storage: the same 3-minute 1280x720 clip (default 180 s)
// through the whole product on its defaults, once with the local store (files under the data dir,
// what the demo runs) and once with S3 on a MinIO this script starts (what a multi-host deployment
// runs), side by side in one run. Prints wall time, the transcode step's time, the objects the
// video left in the store, and the bytes that crossed the S3 connection (a counting proxy in front
// of MinIO), with the S3/local ratios.
// Run: `npm run build && npm run bench:data-plane -- 180` (seconds). Not part of npm test.
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { VideoStatus } from '../src/app/status';
import { S3ObjectStorage } from '../src/adapters/storage/s3-storage';
import { videoPrefixes } from '../src/media/artifact-keys';
import { makeSampleClip } from '../src/media/sample-clip';
import { startHttpStack, type HttpStack } from '../test/support/http-stack';
import { startMinio } from '../test/support/minio';
import { startTcpProxy } from '../test/support/tcp-proxy';
import { parseProcStat, USER_HZ } from './peers/stats';

const seconds = Number(process.argv[2] ?? 180);
const MB = 1024 * 1024;

interface Outcome {
  status: string;
  wallSec: number;
  transcodeSec: number;
  objects: number;
  storedMb: number;
  upMb?: number;
  downMb?: number;
  /** CPU of the four workers (their ffmpeg children included) and, with S3, of MinIO. */
  cpuSec: number;
}

/** utime + stime of a process and its waited-for children (ffmpeg), in seconds; 0 once it is gone. */
async function cpuSecOf(pid: number | undefined): Promise<number> {
  const raw = pid ? await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined) : undefined;
  return raw === undefined ? 0 : parseProcStat(raw).ticks / USER_HZ;
}

async function cpuSec(pids: (number | undefined)[]): Promise<number> {
  return (await Promise.all(pids.map(cpuSecOf))).reduce((a, b) => a + b, 0);
}

async function runOnce(stack: HttpStack, clip: string, videoId: string): Promise<{ status: VideoStatus; wallSec: number }> {
  const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };
  await copyFile(clip, path.join(stack.ingestDir, `${videoId}.mp4`));
  const began = Date.now();
  const res = await fetch(`${stack.apiUrl}/videos`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ videoId, source: { kind: 'file', path: `${videoId}.mp4` } }),
  });
  if (!res.ok) throw new Error(`POST /videos ${res.status}: ${await res.text()}`);
  for (;;) {
    const status = (await (await fetch(`${stack.apiUrl}/videos/${videoId}`, { headers })).json()) as VideoStatus;
    if (status.status === 'ready' || status.status === 'failed') return { status, wallSec: (Date.now() - began) / 1000 };
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

function transcodeSec(status: VideoStatus): number {
  const t = status.steps.transcode;
  return t?.finishedAt ? (Date.parse(t.finishedAt) - Date.parse(t.startedAt)) / 1000 : NaN;
}

async function storedBy(
  storage: { list(p: string): Promise<string[]>; head(k: string): Promise<{ size: number } | undefined> },
  videoId: string,
) {
  const keys = (await Promise.all(videoPrefixes(videoId).map((p) => storage.list(p)))).flat();
  let bytes = 0;
  for (const k of keys) bytes += (await storage.head(k))?.size ?? 0;
  return { objects: keys.length, storedMb: bytes / MB };
}

async function main() {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-dataplane-'));
  const clip = path.join(scratch, 'clip.mp4');
  process.stdout.write(`generating ${seconds} s of 1280x720… `);
  await makeSampleClip(clip, { seconds, width: 1280, height: 720, audio: true });
  console.log('done');
  const rows: [string, Outcome][] = [];
  try {
    // Local store.
    {
      const stack = await startHttpStack('bench-dp-local', { productDefaults: true });
      try {
        const pids = [...stack.workers.procs.values()].map((p) => p.pid);
        const cpu0 = await cpuSec(pids);
        const { status, wallSec } = await runOnce(stack, clip, 'dp-local');
        const cpu = (await cpuSec(pids)) - cpu0;
        const { LocalObjectStorage } = await import('../src/adapters/storage/local-storage');
        const local = new LocalObjectStorage({
          root: path.join(stack.dataDir, 'objects'),
          secret: Buffer.alloc(32),
          publicBaseUrl: 'http://127.0.0.1',
        });
        rows.push([
          'local',
          { status: status.status, wallSec, transcodeSec: transcodeSec(status), ...(await storedBy(local, 'dp-local')), cpuSec: cpu },
        ]);
      } finally {
        await stack.stop();
      }
    }
    // S3 on MinIO, behind a proxy that counts the bytes.
    {
      const minio = await startMinio();
      if (!minio) throw new Error('MinIO is needed (scripts/ensure-minio.sh)');
      const u = new URL(minio.endpoint);
      const proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port) });
      const s3 = new S3ObjectStorage({
        endpoint: minio.endpoint,
        region: 'us-east-1',
        bucket: 'bench',
        accessKeyId: minio.accessKeyId,
        secretAccessKey: minio.secretAccessKey,
        forcePathStyle: true,
      });
      await s3.ensureBucket();
      const stack = await startHttpStack('bench-dp-s3', {
        productDefaults: true,
        env: {
          STORAGE_BACKEND: 's3',
          S3_ENDPOINT: `http://127.0.0.1:${proxy.port}`,
          S3_BUCKET: 'bench',
          S3_ACCESS_KEY_ID: minio.accessKeyId,
          S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
        },
      });
      try {
        const [up0, down0] = [proxy.bytesUp(), proxy.bytesDown()];
        const pids = [...stack.workers.procs.values()].map((p) => p.pid).concat(minio.pid);
        const cpu0 = await cpuSec(pids);
        const { status, wallSec } = await runOnce(stack, clip, 'dp-s3');
        const cpu = (await cpuSec(pids)) - cpu0;
        const [upMb, downMb] = [(proxy.bytesUp() - up0) / MB, (proxy.bytesDown() - down0) / MB];
        rows.push([
          's3',
          {
            status: status.status,
            wallSec,
            transcodeSec: transcodeSec(status),
            ...(await storedBy(s3, 'dp-s3')),
            upMb,
            downMb,
            cpuSec: cpu,
          },
        ]);
      } finally {
        await stack.stop();
        await proxy.close();
        await s3.close();
        await minio.stop();
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const f = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(1));
  console.log(`\n${seconds} s of 1280x720, product defaults:`);
  console.log('store  status  wall s  transcode s  CPU s  objects  stored MB  S3 up MB  S3 down MB');
  for (const [name, o] of rows)
    console.log(
      `${name.padEnd(6)} ${o.status.padEnd(7)} ${f(o.wallSec).padStart(6)} ${f(o.transcodeSec).padStart(12)} ${f(o.cpuSec).padStart(6)} ${String(o.objects).padStart(8)} ${f(o.storedMb).padStart(10)} ${f(o.upMb).padStart(9)} ${f(o.downMb).padStart(11)}`,
    );
  const [local, s3] = [rows.find((r) => r[0] === 'local')?.[1], rows.find((r) => r[0] === 's3')?.[1]];
  if (local && s3)
    console.log(
      `S3 / local: wall ${(s3.wallSec / local.wallSec).toFixed(2)}, transcode ${(s3.transcodeSec / local.transcodeSec).toFixed(2)}, CPU ${(s3.cpuSec / local.cpuSec).toFixed(2)}`,
    );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
