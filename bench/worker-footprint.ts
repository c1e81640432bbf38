// What each process kind costs while one video goes through the product on its defaults with the
// S3 data plane (MinIO this script starts): the numbers behind the chart's resource requests
// (deploy/helm/biblio/values.yaml) and the README's sizing section. A pod's memory is its whole
// process tree (a media worker's ffmpeg children count), so the tree is sampled from /proc.
// Run: `npm run build && npx tsx bench/worker-footprint.ts [seconds]` (default 60 s of 1280x720).
// Not part of npm test.
import { copyFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { S3ObjectStorage } from '../src/adapters/storage/s3-storage';
import { makeSampleClip } from '../src/media/sample-clip';
import { startHttpStack } from '../test/support/http-stack';
import { startMinio } from '../test/support/minio';

const seconds = Number(process.argv[2] ?? 60);
const SAMPLE_MS = 500;
const TICK = 100; // USER_HZ on Linux
const PAGE_KB = 4;

interface ProcStat {
  ppid: number;
  ticks: number; // own utime + stime + reaped children's
  rssKb: number;
}

async function procStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces and parentheses.
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(f[i - 3]);
    return { ppid: n(4), ticks: n(14) + n(15) + n(16) + n(17), rssKb: n(24) * PAGE_KB };
  } catch {
    return undefined; // exited between the listing and the read
  }
}

async function allStats(): Promise<Map<number, ProcStat>> {
  const out = new Map<number, ProcStat>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = await procStat(Number(name));
    if (s) out.set(Number(name), s);
  }
  return out;
}

function tree(root: number, stats: Map<number, ProcStat>): ProcStat[] {
  const members = [root];
  for (let i = 0; i < members.length; i++) for (const [pid, s] of stats) if (s.ppid === members[i]) members.push(pid);
  return members.map((p) => stats.get(p)).filter((s): s is ProcStat => s !== undefined);
}

async function vmHwmKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

async function apiPid(): Promise<number> {
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(path.join('dist', 'api', 'main.js')) && (await procStat(Number(name)))?.ppid === process.pid) return Number(name);
  }
  throw new Error('API process not found');
}

async function main() {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-footprint-'));
  const clip = path.join(scratch, 'clip.mp4');
  await makeSampleClip(clip, { seconds, width: 1280, height: 720, audio: true });
  const minio = await startMinio();
  if (!minio) throw new Error('MinIO is needed (scripts/ensure-minio.sh)');
  const s3 = new S3ObjectStorage({
    endpoint: minio.endpoint,
    region: 'us-east-1',
    bucket: 'footprint',
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    forcePathStyle: true,
  });
  await s3.ensureBucket();
  const stack = await startHttpStack('bench-footprint', {
    productDefaults: true,
    env: {
      STORAGE_BACKEND: 's3',
      S3_ENDPOINT: minio.endpoint,
      S3_BUCKET: 'footprint',
      S3_ACCESS_KEY_ID: minio.accessKeyId,
      S3_SECRET_ACCESS_KEY: minio.secretAccessKey,
    },
  });
  try {
    const roots: [string, number][] = [
      ['api', await apiPid()],
      ...[...stack.workers.procs].map(([r, p]) => [r, p.pid!] as [string, number]),
    ];
    const idle = new Map<string, number>();
    const peakRss = new Map<string, number>();
    const peakCores = new Map<string, number>();
    const firstTicks = new Map<string, number>();
    const lastTicks = new Map<string, number>();
    const windows = new Map<string, [number, number][]>();
    const sample = async () => {
      const stats = await allStats();
      const now = Date.now();
      for (const [name, pid] of roots) {
        const t = tree(pid, stats);
        const rss = t.reduce((a, s) => a + s.rssKb, 0);
        const ticks = t.reduce((a, s) => a + s.ticks, 0);
        idle.set(name, idle.get(name) ?? rss);
        peakRss.set(name, Math.max(peakRss.get(name) ?? 0, rss));
        firstTicks.set(name, firstTicks.get(name) ?? ticks);
        // Cores over a 2 s window (four samples), so one scheduler hiccup is not a peak.
        const h = windows.get(name) ?? [];
        h.push([now, ticks]);
        if (h.length > 5) h.shift();
        windows.set(name, h);
        if (h.length === 5)
          peakCores.set(name, Math.max(peakCores.get(name) ?? 0, (h[4]![1] - h[0]![1]) / TICK / ((h[4]![0] - h[0]![0]) / 1000)));
        lastTicks.set(name, ticks);
      }
    };
    await sample();
    const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };
    await copyFile(clip, path.join(stack.ingestDir, 'fp.mp4'));
    const began = Date.now();
    const res = await fetch(`${stack.apiUrl}/videos`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ videoId: 'fp', source: { kind: 'file', path: 'fp.mp4' } }),
    });
    if (!res.ok) throw new Error(`POST /videos ${res.status}: ${await res.text()}`);
    let status = '';
    let polled = 0;
    while (status !== 'ready' && status !== 'failed') {
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
      await sample();
      if (++polled % 4 === 0)
        status = ((await (await fetch(`${stack.apiUrl}/videos/fp`, { headers })).json()) as { status: string }).status;
    }
    const wall = (Date.now() - began) / 1000;
    console.log(
      `\n${seconds} s of 1280x720, S3 data plane, product defaults: ${status} in ${wall.toFixed(1)} s (load ${os.loadavg()[0]!.toFixed(1)})`,
    );
    console.log('process   idle RSS MB  peak tree RSS MB  node VmHWM MB  CPU s  peak cores (2 s)');
    for (const [name, pid] of roots) {
      const mb = (kb: number) => (kb / 1024).toFixed(0);
      const cpu = ((lastTicks.get(name)! - firstTicks.get(name)!) / TICK).toFixed(1);
      console.log(
        `${name.padEnd(9)} ${mb(idle.get(name)!).padStart(11)} ${mb(peakRss.get(name)!).padStart(17)} ${mb(await vmHwmKb(pid)).padStart(14)} ${cpu.padStart(6)} ${(peakCores.get(name) ?? 0).toFixed(2).padStart(17)}`,
      );
    }
  } finally {
    await stack.stop();
    await s3.close();
    await minio.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
