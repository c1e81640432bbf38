// Where the orchestration time goes: what the Temporal server and the workflow (pipeline) worker
// cost per upload, against everything the upload costs, with nobody watching and with a client
// polling GET /videos/:id at 2 Hz. The real stack as the project runs it (dev server, the API
// process, the four worker processes on the product's defaults), a 12-s 1280x720 clip, uploads
// one after another; CPU of every process from /proc (utime + stime, reaped children = ffmpeg
// included) with each process's idle rate (the lowest of four quiet windows) subtracted.
// Counts per upload come from each run's history (events, workflow tasks, activity tasks) and from
// the dev server's own request counters (--metrics-port: heartbeat, query and describe RPCs, which
// no history shows).
// Run: `npm run build && npm run bench:orchestration [-- --uploads N] [-- --write]` (flock
// /tmp/biblio-heavy.lock on a shared machine). `--write` puts the table into docs/benchmarks.md
// between the orchestration markers; `npm run bench` calls runOrchestrationBench/writeOrchestrationReport.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { makeSampleClip } from '../src/media/sample-clip';
import { startHttpStack, freePort, type HttpStack } from '../test/support/http-stack';
import { replaceSection } from './all/sections';
import { snapshot } from './peers/proc';
import { parseProcStat, type ProcStat } from './peers/stats';

const TICK_MS = 10; // USER_HZ 100 on Linux
const POLL_MS = 500; // 2 Hz
const DOC = path.resolve(__dirname, '..', 'docs', 'benchmarks.md');

/** The processes of the stack, by what they are. `postgres` = the backends of the stack's own database. */
const KINDS = ['temporal', 'pipeline', 'media', 'ai', 'index', 'api', 'postgres'] as const;
type Kind = (typeof KINDS)[number];
type Cpu = Record<Kind, number>; // ms

/** The dev server's request counters the report names (frontend operations). */
const RPCS = [
  'RecordActivityTaskHeartbeat',
  'RespondWorkflowTaskCompleted',
  'RespondActivityTaskCompleted',
  'QueryWorkflow',
  'DescribeWorkflowExecution',
  'DescribeTaskQueue',
] as const;
type Rpc = (typeof RPCS)[number];

export interface UploadFigures {
  videoId: string;
  mode: 'unpolled' | 'polled';
  wallMs: number;
  cpu: Cpu;
  orchestrationMs: number;
  totalMs: number;
  sharePct: number;
  events: number;
  workflowTasks: number;
  activityTasks: number;
  rpcs: Record<Rpc, number>;
  polls: number;
}

/** One process's CPU ticks, or undefined once it has exited (the parser is bench/peers/stats.ts, unit-tested). */
async function procStat(pid: number): Promise<ProcStat | undefined> {
  const raw = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return raw === undefined ? undefined : parseProcStat(raw);
}

/** Every process of the machine (bench/peers/proc.ts). */
const allStats = snapshot;

/** A process and every descendant: a worker's ffmpeg children count to it. */
function treeTicks(root: number, stats: Map<number, ProcStat>): number {
  const members = [root];
  for (let i = 0; i < members.length; i++) for (const [pid, s] of stats) if (s.ppid === members[i]) members.push(pid);
  return members.reduce((a, p) => a + (stats.get(p)?.ticks ?? 0), 0);
}

async function descendantWith(root: number, needle: string): Promise<number> {
  const stats = await allStats();
  const members = [root];
  for (let i = 0; i < members.length; i++) for (const [pid, s] of stats) if (s.ppid === members[i]) members.push(pid);
  for (const pid of members) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(needle)) return pid;
  }
  throw new Error(`no process of this bench runs ${needle}`);
}

/**
 * CPU counters of the stack. PostgreSQL backends of the stack's database come and go with the
 * pools (10 s idle timeout): each is sampled every second and its last value kept, so a backend
 * that exits loses at most its last second.
 */
class CpuMeter {
  private readonly pgLast = new Map<number, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly roots: Record<Exclude<Kind, 'postgres'>, number>,
    private readonly pg: PgClient,
    private readonly dbName: string,
    private readonly ownBackend: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.samplePg().catch(() => undefined), 1_000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async samplePg(): Promise<void> {
    const { rows } = await this.pg.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2', [
      this.dbName,
      this.ownBackend,
    ]);
    for (const { pid } of rows) {
      const s = await procStat(pid);
      if (s) this.pgLast.set(pid, s.ticks);
    }
  }

  async read(): Promise<Cpu> {
    await this.samplePg();
    const stats = await allStats();
    const cpu = {} as Cpu;
    for (const [kind, pid] of Object.entries(this.roots) as [Exclude<Kind, 'postgres'>, number][])
      cpu[kind] = treeTicks(pid, stats) * TICK_MS;
    cpu.postgres = [...this.pgLast.values()].reduce((a, t) => a + t, 0) * TICK_MS;
    return cpu;
  }
}

const minus = (a: Cpu, b: Cpu): Cpu => Object.fromEntries(KINDS.map((k) => [k, a[k] - b[k]])) as Cpu;

async function scrapeRpcs(metricsUrl: string): Promise<Record<Rpc, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out = Object.fromEntries(RPCS.map((r) => [r, 0])) as Record<Rpc, number>;
  for (const line of text.split('\n')) {
    const m = /^service_requests\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || !m[1]!.includes('service_name="frontend"')) continue;
    const op = /operation="([^"]+)"/.exec(m[1]!)?.[1] as Rpc | undefined;
    if (op && op in out) out[op] += Number(m[2]);
  }
  return out;
}

async function historyCounts(
  stack: HttpStack,
  workflowId: string,
): Promise<{ events: number; workflowTasks: number; activityTasks: number }> {
  const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const count = (field: string) => events.filter((e) => (e as Record<string, unknown>)[field] != null).length;
  return {
    events: events.length,
    workflowTasks: count('workflowTaskCompletedEventAttributes'),
    activityTasks: count('activityTaskStartedEventAttributes'),
  };
}

export interface OrchestrationOptions {
  uploads?: number;
  idleSeconds?: number;
  log?: (line: string) => void;
  /**
   * A stack of the caller's (`npm run bench` measures more on it): started with
   * `orchestrationStackArgs`, its clip already in the ingest dir; left running.
   */
  shared?: { stack: HttpStack; metricsUrl: string; clipName: string };
  /** The command named in the report. */
  command?: string;
}

/** The clip every upload of this bench (and of `npm run bench`) sends: the product's typical short upload. */
export const ORCHESTRATION_CLIP = { seconds: 12, width: 1280, height: 720, audio: true } as const;

/** The stack this bench measures: product defaults, the dev server's request counters on `metricsPort`. */
export function orchestrationStackArgs(metricsPort: number): Parameters<typeof startHttpStack>[1] {
  return { productDefaults: true, temporalArgs: ['--metrics-port', String(metricsPort)] };
}

export interface OrchestrationResult {
  date: string;
  load: number;
  idleMsPerS: Cpu;
  uploads: UploadFigures[];
  markdown: string;
}

/** Runs the whole measurement: warm-up upload, idle window, N unpolled uploads, N polled ones. */
export async function runOrchestrationBench(o: OrchestrationOptions = {}): Promise<OrchestrationResult> {
  const n = o.uploads ?? 8;
  const log = o.log ?? ((l: string) => console.log(l));
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-orch-'));
  let stack: HttpStack;
  let metricsUrl: string;
  let clipName = 'clip.mp4';
  if (o.shared) {
    ({ stack, metricsUrl, clipName } = o.shared);
  } else {
    const clip = path.join(scratch, 'clip.mp4');
    await makeSampleClip(clip, ORCHESTRATION_CLIP);
    const metricsPort = await freePort();
    stack = await startHttpStack('bench-orch', orchestrationStackArgs(metricsPort));
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    await copyFile(clip, path.join(stack.ingestDir, clipName));
  }
  const pg = new PgClient({ connectionString: stack.db.url });
  let meter: CpuMeter | undefined;
  try {
    await pg.connect();
    const own = (await pg.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const dbName = (await pg.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    const workers = stack.workers.procs;
    meter = new CpuMeter(
      {
        temporal: await descendantWith(process.pid, 'start-dev'),
        pipeline: workers.get('pipeline')!.pid!,
        media: workers.get('media')!.pid!,
        ai: workers.get('ai')!.pid!,
        index: workers.get('index')!.pid!,
        api: await descendantWith(process.pid, path.join('dist', 'api', 'main.js')),
      },
      pg,
      dbName,
      own,
    );
    meter.start();
    const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };

    const upload = async (videoId: string, mode: UploadFigures['mode']): Promise<UploadFigures> => {
      const rpc0 = await scrapeRpcs(metricsUrl);
      const cpu0 = await meter!.read();
      const began = Date.now();
      const res = await fetch(`${stack.apiUrl}/videos`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ videoId, source: { kind: 'file', path: clipName } }),
      });
      if (!res.ok) throw new Error(`POST /videos ${res.status}: ${await res.text()}`);
      let polls = 0;
      if (mode === 'polled') {
        // A watcher: GET twice a second until the document says ready and the run closed.
        for (;;) {
          await new Promise((r) => setTimeout(r, POLL_MS));
          const doc = (await (await fetch(`${stack.apiUrl}/videos/${videoId}`, { headers })).json()) as {
            status: string;
            workflowStatus: string;
          };
          polls++;
          if (doc.status === 'failed') throw new Error(`${videoId} failed: ${JSON.stringify(doc)}`);
          if (doc.status === 'ready' && doc.workflowStatus === 'COMPLETED') break;
        }
      } else {
        // Nobody asks Temporal: the bench watches the row (its own backend is not counted), then
        // leaves the run a second to close (idle is subtracted for that second too).
        for (;;) {
          await new Promise((r) => setTimeout(r, 200));
          const { rows } = await pg.query<{ status: string }>('SELECT status FROM videos WHERE id = $1', [videoId]);
          if (rows[0]?.status === 'failed') throw new Error(`${videoId} failed`);
          if (rows[0]?.status === 'ready') break;
        }
        await new Promise((r) => setTimeout(r, 1_000));
      }
      const wallMs = Date.now() - began;
      const cpu1 = await meter!.read();
      const rpc1 = await scrapeRpcs(metricsUrl);
      const desc = await stack.env.client.workflow.getHandle(`video-${videoId}`).describe();
      if (desc.status.name !== 'COMPLETED') throw new Error(`${videoId}: run is ${desc.status.name} after the window`);
      const raw = minus(cpu1, cpu0);
      const cpu = Object.fromEntries(KINDS.map((k) => [k, raw[k] - idle[k] * (wallMs / 1000)])) as Cpu;
      const orchestrationMs = cpu.temporal + cpu.pipeline;
      const totalMs = KINDS.reduce((a, k) => a + cpu[k], 0);
      const rpcs = Object.fromEntries(RPCS.map((r) => [r, rpc1[r] - rpc0[r]])) as Record<Rpc, number>;
      return {
        videoId,
        mode,
        wallMs,
        cpu,
        orchestrationMs,
        totalMs,
        sharePct: (100 * orchestrationMs) / totalMs,
        ...(await historyCounts(stack, `video-${videoId}`)),
        rpcs,
        polls,
      };
    };

    // Warm-up: first-upload costs (JIT, caches, first sticky workflow) are not any upload's.
    let idle: Cpu = Object.fromEntries(KINDS.map((k) => [k, 0])) as Cpu;
    log('warm-up upload…');
    await upload('orch-warm', 'unpolled');
    await new Promise((r) => setTimeout(r, 3_000));
    const idleSeconds = o.idleSeconds ?? 20;
    log(`idle window ${idleSeconds} s…`);
    // The lowest rate of four windows, per process: a one-off burst in the window (a scheduled
    // reconciler pass, a garbage collection) would otherwise be subtracted from every upload and
    // can even make a process's share negative.
    const windows = 4;
    const rates: Cpu[] = [];
    let before = await meter.read();
    for (let w = 0; w < windows; w++) {
      await new Promise((r) => setTimeout(r, (idleSeconds * 1000) / windows));
      const after = await meter.read();
      rates.push(Object.fromEntries(KINDS.map((k) => [k, (after[k] - before[k]) / (idleSeconds / windows)])) as Cpu);
      before = after;
    }
    idle = Object.fromEntries(KINDS.map((k) => [k, Math.min(...rates.map((r) => r[k]))])) as Cpu;
    const uploads: UploadFigures[] = [];
    for (const mode of ['unpolled', 'polled'] as const)
      for (let i = 0; i < n; i++) {
        const f = await upload(`orch-${mode}-${i}`, mode);
        log(
          `${mode} #${i + 1}: orchestration ${f.orchestrationMs.toFixed(0)} ms of ${f.totalMs.toFixed(0)} ms = ${f.sharePct.toFixed(2)} % ` +
            `(temporal ${f.cpu.temporal.toFixed(0)}, pipeline ${f.cpu.pipeline.toFixed(0)}, api ${f.cpu.api.toFixed(0)}); ` +
            `${f.events} events, ${f.workflowTasks} wf tasks, ${f.activityTasks} activity tasks, ${f.rpcs.RecordActivityTaskHeartbeat} heartbeats, ` +
            `${f.rpcs.QueryWorkflow} queries, ${f.rpcs.DescribeWorkflowExecution} describes, ${f.polls} polls, ${(f.wallMs / 1000).toFixed(1)} s`,
        );
        uploads.push(f);
      }
    const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
    const load = os.loadavg()[0]!;
    const command = o.command ?? 'npm run bench:orchestration';
    return { date, load, idleMsPerS: idle, uploads, markdown: renderMarkdown(command, date, load, idle, uploads) };
  } finally {
    meter?.stop();
    await pg.end().catch(() => undefined);
    if (!o.shared) await stack.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);

function renderMarkdown(command: string, date: string, load: number, idle: Cpu, uploads: UploadFigures[]): string {
  const rows = (['unpolled', 'polled'] as const).map((mode) => {
    const us = uploads.filter((u) => u.mode === mode);
    const m = (f: (u: UploadFigures) => number) => mean(us.map(f));
    const shares = us.map((u) => u.sharePct);
    return (
      `| ${mode === 'polled' ? 'GET /videos/:id at 2 Hz' : 'nobody polling'} | ${us.length} | ${m((u) => u.cpu.temporal).toFixed(0)} | ` +
      `${m((u) => u.cpu.pipeline).toFixed(0)} | **${m((u) => u.orchestrationMs).toFixed(0)}** | ${m((u) => u.cpu.api).toFixed(0)} | ` +
      `${m((u) => u.totalMs).toFixed(0)} | **${m((u) => u.sharePct).toFixed(2)} %** (${Math.min(...shares).toFixed(2)}–${Math.max(...shares).toFixed(2)}) | ` +
      `${m((u) => u.events).toFixed(0)} | ${m((u) => u.workflowTasks).toFixed(0)} | ${m((u) => u.activityTasks).toFixed(0)} | ` +
      `${m((u) => u.rpcs.RecordActivityTaskHeartbeat).toFixed(1)} | ${m((u) => u.rpcs.QueryWorkflow).toFixed(1)} / ${m((u) => u.rpcs.DescribeWorkflowExecution).toFixed(1)} | ` +
      `${m((u) => u.polls).toFixed(0)} | ${(m((u) => u.wallMs) / 1000).toFixed(1)} |`
    );
  });
  const idleLine = KINDS.map((k) => `${k} ${idle[k].toFixed(1)}`).join(', ');
  return [
    `**Orchestration share** (\`${command}\`, ${date} UTC, load average ${load.toFixed(1)} at the end): a 12-s 1280x720 clip`,
    'uploaded one after another through the API process and the four workers on the product defaults, Temporal dev server as the',
    'project runs it. CPU ms per upload from `/proc` (utime + stime, ffmpeg children included), idle subtracted per process (the lowest rate of four quiet windows)',
    `(idle ms/s: ${idleLine}). Orchestration = Temporal server + pipeline (workflow) worker; the total adds the API, the media, AI`,
    "and index workers and the PostgreSQL backends of the stack's database. Events, workflow tasks and activity tasks from each",
    "run's history; heartbeat, query and describe RPCs from the dev server's request counters (`--metrics-port`). Means per upload,",
    'share range in brackets. Targets: ≤ 1 % unpolled, ≤ 1.5 % polled (before the status feed: 258 ms = 2.3 % / 524 ms = 4.2 %).',
    '',
    '| client | uploads | Temporal ms | pipeline worker ms | orchestration ms | API ms | upload total ms | share | history events | workflow tasks | activity tasks | heartbeat RPCs | queries / describes | polls | wall s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** Puts the report between the orchestration markers of docs/benchmarks.md (appended with them when missing). */
export async function writeOrchestrationReport(markdown: string, file = DOC): Promise<void> {
  await writeFile(file, replaceSection(await readFile(file, 'utf8'), 'orchestration', markdown, 'Orchestration'));
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--uploads');
  const uploads = at >= 0 ? Number(args[at + 1]) : undefined;
  runOrchestrationBench({ uploads })
    .then(async (r) => {
      console.log(`\n${r.markdown}`);
      if (args.includes('--write')) await writeOrchestrationReport(r.markdown);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
