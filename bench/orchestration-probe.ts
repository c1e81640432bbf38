// Where the Temporal dev server's CPU per upload goes (the orchestration bench's "Temporal ms"):
// the same stack as bench/orchestration.ts, measured in windows instead of per upload.
//   idle        nothing runs (the workers' pollers wait on the server)
//   bare-load   the product's rendition encode of the same clip, bare ffmpeg, back to back,
//               NO workflow open: what the server's idle loops cost while ffmpeg takes both cores
//   uploads     the bench's uploads, one after another, nobody polling
// For every window: the server's CPU (utime + stime of its process tree, /proc), its context
// switches (all threads), the machine's busy share, and the server's own counters
// (--metrics-port): requests per service and operation, persistence operations. With PROBE_PERF=1
// the measured part is sampled by `perf record -k CLOCK_MONOTONIC -e cpu-clock -g -p <server>`
// into PROBE_OUT (default $TMPDIR/biblio-orch-probe)/probe.data, with windows.json (each window's
// monotonic ends) to cut it by: bench/orchestration-probe-perf.py.
// Run: `npm run build && flock /tmp/biblio-heavy.lock npx tsx bench/orchestration-probe.ts
//       [--seconds 30] [--uploads 4] [--rounds 1]`
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { renditionArgs } from '../src/media/ffmpeg-args';
import { runProcess, lastErrorLine } from '../src/media/run-process';
import { makeSampleClip } from '../src/media/sample-clip';
import { startHttpStack, freePort, type HttpStack } from '../test/support/http-stack';
import { ORCHESTRATION_CLIP, orchestrationStackArgs } from './orchestration';
import { snapshot } from './peers/proc';

const TICK_MS = 10;

/** `name{labels} value` lines of a Prometheus text page, summed per (metric, selected labels). */
export function counters(text: string, metric: string, labels: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const m = /^[^{]+\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const key = labels.map((l) => new RegExp(`(?:^|,)${l}="([^"]*)"`).exec(m[1]!)?.[1] ?? '').join(' ');
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

interface Sample {
  at: number;
  /** CLOCK_MONOTONIC seconds (perf record --clockid monotonic uses the same clock). */
  mono: number;
  serverTicks: number;
  ctxSwitches: number;
  machineBusy: number;
  machineTotal: number;
  requests: Map<string, number>;
  persistence: Map<string, number>;
}

export interface WindowFigures {
  name: string;
  seconds: number;
  serverMsPerS: number;
  ctxSwitchesPerS: number;
  machineBusyPct: number;
  requestsPerS: [string, number][];
  persistencePerS: [string, number][];
  note?: string;
  /** CLOCK_MONOTONIC seconds of the window's ends, to cut a perf recording by. */
  from: number;
  to: number;
}

async function treeTicks(root: number): Promise<number> {
  const stats = await snapshot();
  const members = [root];
  for (let i = 0; i < members.length; i++) for (const [pid, s] of stats) if (s.ppid === members[i]) members.push(pid);
  return members.reduce((a, p) => a + (stats.get(p)?.ticks ?? 0), 0);
}

async function ctxSwitches(pid: number): Promise<number> {
  let n = 0;
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    const s = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8').catch(() => '');
    for (const m of s.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) n += Number(m[1]);
  }
  return n;
}

/** busy and total jiffies of the machine (first line of /proc/stat). */
async function machine(): Promise<{ busy: number; total: number }> {
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((a, x) => a + x, 0);
  return { busy: total - idle, total };
}

async function serverPid(): Promise<number> {
  const stats = await snapshot();
  const members = [process.pid];
  for (let i = 0; i < members.length; i++) for (const [pid, s] of stats) if (s.ppid === members[i]) members.push(pid);
  const found = members.find((p) => stats.get(p)?.cmdline.includes('start-dev'));
  if (found === undefined) throw new Error('no dev server under this process');
  return found;
}

function diffPerS(a: Map<string, number>, b: Map<string, number>, s: number): [string, number][] {
  return [...b]
    .map(([k, v]) => [k, (v - (a.get(k) ?? 0)) / s] as [string, number])
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1]);
}

export async function runProbe(o: { seconds: number; uploads: number; rounds: number; perf: boolean; out: string }) {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'biblio-orch-probe-'));
  await mkdir(o.out, { recursive: true });
  const clip = path.join(scratch, 'clip.mp4');
  await makeSampleClip(clip, ORCHESTRATION_CLIP);
  const metricsPort = await freePort();
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const stack: HttpStack = await startHttpStack('bench-orch-probe', orchestrationStackArgs(metricsPort));
  const pg = new PgClient({ connectionString: stack.db.url });
  const windows: WindowFigures[] = [];
  try {
    await pg.connect();
    await copyFile(clip, path.join(stack.ingestDir, 'clip.mp4'));
    const server = await serverPid();
    console.log(`dev server pid ${server}`);
    const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };

    const scrape = async () => {
      const text = await (await fetch(metricsUrl)).text();
      return {
        requests: counters(text, 'service_requests', ['service_name', 'operation']),
        persistence: counters(text, 'persistence_requests', ['operation']),
      };
    };
    const ticks = async () => {
      const m = await machine();
      return {
        at: Date.now(),
        mono: Number(process.hrtime.bigint()) / 1e9,
        serverTicks: await treeTicks(server),
        ctxSwitches: await ctxSwitches(server),
        machineBusy: m.busy,
        machineTotal: m.total,
      };
    };
    // The server's own /metrics page costs it ~40 ms of CPU per scrape (perf): scraped outside the
    // counted window, so a window's CPU is the server's work only.
    const sample = async (end: boolean): Promise<Sample> => {
      if (end) {
        const t = await ticks();
        return { ...t, ...(await scrape()) };
      }
      const c = await scrape();
      return { ...(await ticks()), ...c };
    };

    const upload = async (videoId: string) => {
      const res = await fetch(`${stack.apiUrl}/videos`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ videoId, source: { kind: 'file', path: 'clip.mp4' } }),
      });
      if (!res.ok) throw new Error(`POST /videos ${res.status}: ${await res.text()}`);
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        const { rows } = await pg.query<{ status: string }>('SELECT status FROM videos WHERE id = $1', [videoId]);
        if (rows[0]?.status === 'failed') throw new Error(`${videoId} failed`);
        if (rows[0]?.status === 'ready') break;
      }
      // The run closes right after the row says ready: wait for it, so no workflow stays open.
      await stack.env.client.workflow.getHandle(`video-${videoId}`).result();
    };

    const measure = async (name: string, body: () => Promise<string | undefined>) => {
      const a = await sample(false);
      const note = await body();
      const b = await sample(true);
      const s = (b.at - a.at) / 1000;
      const f: WindowFigures = {
        name,
        seconds: s,
        serverMsPerS: ((b.serverTicks - a.serverTicks) * TICK_MS) / s,
        ctxSwitchesPerS: (b.ctxSwitches - a.ctxSwitches) / s,
        machineBusyPct: (100 * (b.machineBusy - a.machineBusy)) / (b.machineTotal - a.machineTotal),
        requestsPerS: diffPerS(a.requests, b.requests, s),
        persistencePerS: diffPerS(a.persistence, b.persistence, s),
        ...(note ? { note } : {}),
        from: a.mono,
        to: b.mono,
      };
      windows.push(f);
      console.log(
        `${name}: ${s.toFixed(1)} s, server ${f.serverMsPerS.toFixed(1)} ms/s, ${f.ctxSwitchesPerS.toFixed(0)} ctx sw/s, machine busy ${f.machineBusyPct.toFixed(0)} %${note ? `, ${note}` : ''}`,
      );
      console.log(`  requests/s: ${f.requestsPerS.map(([k, v]) => `${k} ${v.toFixed(2)}`).join('; ')}`);
      console.log(`  persistence/s: ${f.persistencePerS.map(([k, v]) => `${k} ${v.toFixed(2)}`).join('; ')}`);
    };

    console.log('warm-up upload…');
    await upload('probe-warm');
    await new Promise((r) => setTimeout(r, 5_000));
    // One recording of the whole measured part; the windows' CLOCK_MONOTONIC ends cut it.
    let perf: ChildProcess | undefined;
    if (o.perf) {
      const args = [
        'record',
        '-q',
        '-k',
        'CLOCK_MONOTONIC',
        '-e',
        'cpu-clock',
        '-F',
        '999',
        '-g',
        '-p',
        String(server),
        '-o',
        path.join(o.out, 'probe.data'),
      ];
      perf = spawn('perf', args, { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const bare = async () => {
      const until = Date.now() + o.seconds * 1000;
      let n = 0;
      while (Date.now() < until) {
        const out = path.join(scratch, `bare-${n}.mp4`);
        const res = await runProcess('ffmpeg', [
          '-hide_banner',
          '-nostdin',
          '-y',
          '-v',
          'error',
          ...renditionArgs({ input: clip, output: out, preset: 'veryfast', threads: 0, maxHeight: 720 }),
        ]);
        if (res.code !== 0) throw new Error(`bare encode: ${lastErrorLine(res.stderrTail)}`);
        await rm(out, { force: true });
        n++;
      }
      return `${n} bare encodes`;
    };
    let k = 0;
    const idle = async () => {
      await new Promise((r) => setTimeout(r, o.seconds * 1000));
      return undefined;
    };
    const scrapes = async () => {
      for (let i = 0; i < 5; i++) {
        await scrape();
        await new Promise((res) => setTimeout(res, 2_000));
      }
      return '5 scrapes of /metrics, 2 s apart';
    };
    for (let r = 0; r < o.rounds; r++) {
      await measure(`idle-${r}`, idle);
      await measure(`bare-load-${r}`, bare);
      await new Promise((res) => setTimeout(res, 3_000));
      // Each upload a window of its own, as bench/orchestration.ts counts it.
      for (let i = 0; i < o.uploads; i++) await measure(`upload-${r}-${i}`, async () => (await upload(`probe-${k++}`), undefined));
      await new Promise((res) => setTimeout(res, 3_000));
      await measure(`scrapes-${r}`, scrapes);
    }
    if (perf) {
      const exited = new Promise((res) => perf!.once('exit', res));
      perf.kill('SIGINT');
      await exited;
    }
    await writeFile(path.join(o.out, 'windows.json'), JSON.stringify(windows, null, 1));
    return { windows, load: os.loadavg() };
  } finally {
    await pg.end().catch(() => undefined);
    await stack.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const num = (flag: string, d: number) => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : d);
  runProbe({
    seconds: num('--seconds', 30),
    uploads: num('--uploads', 4),
    rounds: num('--rounds', 1),
    perf: process.env.PROBE_PERF === '1',
    out: process.env.PROBE_OUT ?? path.join(os.tmpdir(), 'biblio-orch-probe'),
  })
    .then((r) => {
      console.log(`\nload average at the end: ${r.load.map((l) => l.toFixed(2)).join(' ')}`);
      console.log(JSON.stringify(r.windows));
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
