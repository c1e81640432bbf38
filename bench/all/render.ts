// Pure: the sections `npm run bench` writes into docs/benchmarks.md, from one run's figures.
// Every figure stands beside its baseline from the same run; a missed target says so.
import type { QuotaRunResult } from '../../test/support/ai-load';
import type { AnnResult } from '../search-ann';
import { fmt, median, secondsSpread, table, verdict, type Target } from './sections';

export interface Machine {
  /** `2026-12-06 21:40 UTC` */
  date: string;
  nproc: number;
  cpuModel: string;
  /** 1-minute load average when the run ended. */
  load: number;
  node: string;
  ffmpeg: string;
  temporal: string;
}

/** One finished upload, from its history (server times). */
export interface UploadRun {
  videoId: string;
  /** WorkflowExecutionStarted → closed. */
  runMs: number;
  /** The transcode activity's own time (its attempt's start → completion). */
  transcodeMs: number;
  /** Transcode scheduled → started: the wait for the media worker. */
  transcodeQueuedMs: number;
  /** Sum of the media step's activities' own times. */
  mediaActivitiesMs: number;
  /** Sum of the other activities (analysis, the index saga) — not run by the direct baseline. */
  otherActivitiesMs: number;
  activities: number;
}

export interface TranscodeResult {
  clip: string;
  uploads: UploadRun[];
  bareMs: number[];
  /** The transcode activity called in-process (the direct runs of the batch baseline). */
  directMs: number[];
}

export interface UploadResult {
  clip: string;
  uploads: UploadRun[];
  /** The media activities called in-process, one after another (ms per run). */
  directMs: number[];
}

export interface BatchResult {
  uploads: number;
  /** First POST → last run closed. */
  batchMs: number;
  /** The same media work run directly, back to back. */
  bareMs: number;
  bareRunsMs: number[];
  /** The transcode activity's share of each direct run. */
  directTranscodeMs: number[];
}

export interface KillResult {
  type: 'transcode' | 'encodeSegment';
  clipSec: number;
  /** Seconds of video the killed activity encodes (the clip, or one segment). */
  workSec: number;
  percentAtKill: number;
  /** Kill → attempt 2 started (the pending activity's last start, server clock). */
  killToRetryMs: number;
  /** The same from the closed run's ActivityTaskStarted event. */
  killToRetryHistoryMs: number;
  /** Attempt 1's start → the kill: encoding thrown away. */
  lostEncodeMs: number;
  retriedActivities: number;
  attempts: number[];
  replacementReadyMs: number;
  heartbeatTimeoutMs: number;
  /** The media workers' liveness lease (WORKER_LEASE_TTL_MS; 0: the detector is off). */
  leaseTtlMs: number;
}

export interface SearchResult {
  results: AnnResult[];
  queries: number;
  wallMs: number;
}

export interface QuotaResult {
  q: number;
  windowMs: number;
  aiWorkers: number;
  analyses: number;
  store: string;
  run: QuotaRunResult;
}

export interface PartTime {
  id: string;
  title: string;
  ms: number;
  error?: string;
}

export const TARGETS = {
  unpolled: { op: '≤', value: 1, unit: ' %', digits: 2 },
  polled: { op: '≤', value: 1.5, unit: ' %', digits: 2 },
  batch: { op: '≥', value: 0.95, unit: '', digits: 2 },
  killToRetry: { op: '≤', value: 5, unit: ' s', digits: 1 },
  quota429: { op: '≤', value: 0, unit: '', digits: 0 },
  total: { op: '≤', value: 20, unit: ' min', digits: 1 },
} satisfies Record<string, Target>;

export function machineLine(m: Machine, command: string): string {
  return (
    `\`${command}\`, ${m.date}; ${m.nproc} cores (nproc), ${m.cpuModel}, shared with other sessions (load average ` +
    `${fmt(m.load)} at the end); Node ${m.node}, ${m.ffmpeg}, Temporal CLI ${m.temporal}.`
  );
}

const s = (ms: number, d = 1) => `${fmt(ms / 1000, d)} s`;
const pct = (a: number, b: number) => `${fmt((100 * a) / b)} %`;

export function renderTranscode(r: TranscodeResult, m: Machine, command: string): string {
  const act = median(r.uploads.map((u) => u.transcodeMs));
  const bare = median(r.bareMs);
  return [
    `**(a) Transcode activity vs bare ffmpeg** — ${machineLine(m, command)}`,
    '',
    `${r.clip.charAt(0).toUpperCase()}${r.clip.slice(1)}: the \`transcode\` activity of the uploads of (c) (its attempt's start → completion, from each run's history:`,
    'fetch, probe, the encode, verify, thumbnail, publish) against the same rendition encode run bare',
    '(`renditionArgs` of `src/media/ffmpeg-args.ts`, the product preset and threads, no Temporal), and the activity called in this',
    'process without Temporal (the direct runs of (d)). Medians, range and count in brackets.',
    '',
    table(
      [
        'transcode activity (worker)',
        'activity called directly',
        'bare ffmpeg (baseline)',
        'activity / bare',
        'waiting for the media worker',
      ],
      [
        [
          secondsSpread(r.uploads.map((u) => u.transcodeMs)),
          secondsSpread(r.directMs),
          secondsSpread(r.bareMs),
          `**${fmt(act / bare, 2)}×**`,
          secondsSpread(
            r.uploads.map((u) => u.transcodeQueuedMs),
            2,
          ),
        ],
      ],
    ),
  ].join('\n');
}

export function renderUpload(r: UploadResult, m: Machine, command: string): string {
  const run = median(r.uploads.map((u) => u.runMs));
  const direct = median(r.directMs);
  const other = median(r.uploads.map((u) => u.otherActivitiesMs));
  const baseline = direct + other;
  return [
    `**(b) End-to-end upload vs the steps run directly** — ${machineLine(m, command)}`,
    '',
    `The uploads of (c) (${r.clip}, one at a time, nobody polling and 2 Hz polling alike): the run from its start to its close`,
    '(history). Baseline: the media activities (plan, single-pass transcode, HLS ladder, analysis inputs, storyboard) called',
    'directly in this process, one after another, on the same clip (the direct runs of (d)), plus the analysis and index',
    "activities' own time from the same histories (not called directly: they are milliseconds with the offline analyzer).",
    '',
    table(
      [
        'upload, run start → close',
        'media steps run directly',
        '+ analysis and index activities',
        'baseline',
        'upload − baseline',
        'upload / baseline',
      ],
      [
        [
          secondsSpread(r.uploads.map((u) => u.runMs)),
          secondsSpread(r.directMs),
          secondsSpread(
            r.uploads.map((u) => u.otherActivitiesMs),
            2,
          ),
          s(baseline),
          `${s(run - baseline, 2)} (${pct(run - baseline, baseline)})`,
          `**${fmt(run / baseline, 2)}×**`,
        ],
      ],
    ),
    '',
    `Inside the worker the media activities took ${secondsSpread(r.uploads.map((u) => u.mediaActivitiesMs))} per upload` +
      ` against ${s(direct)} called directly.`,
  ].join('\n');
}

export function renderBatch(r: BatchResult, m: Machine, command: string, clip: string): string {
  const ratio = r.bareMs / r.batchMs;
  return [
    `**(d) Batch** — ${machineLine(m, command)}`,
    '',
    `${r.uploads} uploads of ${clip} posted at once to the API (product defaults: one media activity at a time per`,
    'media worker, one media worker), from the first POST to the last run closed; baseline: the same media work run',
    'directly (the activities called in this process, as in (b)) for the same number of clips, back to back. The batch',
    'also runs the analysis and index steps, which the baseline does not.',
    '',
    table(
      ['uploads', 'batch through the pipeline', 'same work bare, back to back (baseline)', 'bare / batch', 'bare per clip'],
      [[r.uploads, s(r.batchMs), s(r.bareMs), `**${fmt(ratio, 2)}**`, secondsSpread(r.bareRunsMs)]],
    ),
    '',
    `Ratio bare / batch ${verdict(TARGETS.batch, ratio)}.`,
  ].join('\n');
}

export function renderKill(rs: KillResult[], m: Machine, command: string): string {
  const hb = rs[0]?.heartbeatTimeoutMs ?? NaN;
  const lease = rs[0]?.leaseTtlMs ?? 0;
  const rows = rs.map((r) => [
    r.type === 'transcode'
      ? `single-pass \`transcode\` of a ${r.clipSec}-s clip`
      : `one \`encodeSegment\` (${r.workSec} s) of a ${r.clipSec}-s clip`,
    `${fmt(r.percentAtKill, 0)} %`,
    `**${s(r.killToRetryMs)}**`,
    s(r.killToRetryHistoryMs),
    `${s(r.lostEncodeMs)} of encoding, ${fmt((r.percentAtKill / 100) * r.workSec)} s of video (${fmt((r.percentAtKill / 100) * (r.workSec / r.clipSec) * 100)} % of it)`,
    `${r.retriedActivities} (attempts ${r.attempts.join(', ') || '—'})`,
    s(r.replacementReadyMs),
    verdict(TARGETS.killToRetry, r.killToRetryMs / 1000),
  ]);
  return [
    `**(e) Kill → retry** — ${machineLine(m, command)}`,
    '',
    'SIGKILL of the media worker process (its ffmpeg dies with it) while its heartbeat reports the encode part-way, a',
    "replacement media worker started at once; the clock runs from the kill to the start of the killed activity's attempt 2",
    "(the pending activity's last start, server clock; the history's ActivityTaskStarted of the closed run beside it).",
    ...(lease > 0
      ? [
          `Product defaults: each media worker holds a liveness lease in PostgreSQL (${s(lease, 1)} by the database's clock,`,
          "renewed every second); a watchdog in the media and pipeline workers fails a lapsed worker's attempts at once",
          '(`WorkerLost`) and moves their retry to the rescue queue every media worker polls with one slot, so a retried',
          `segment does not wait behind its siblings. The heartbeat timeout (${s(hb, 0)}, \`MEDIA_HEARTBEAT_TIMEOUT_MS\`) stays the backstop.`,
        ]
      : [
          `Product defaults: media heartbeat timeout ${s(hb, 0)} (\`MEDIA_HEARTBEAT_TIMEOUT_MS\`), first retry 1 s later; the`,
          'liveness lease is off (`WORKER_LEASE_TTL_MS=0`), so a kill is noticed only when the heartbeat timeout runs out.',
        ]),
    '',
    table(
      [
        'killed',
        'progress at the kill',
        'kill → attempt 2 starts',
        '(history)',
        'work redone',
        'attempts retried',
        'replacement ready after',
        'target',
      ],
      rows,
    ),
  ].join('\n');
}

export function renderSearch(r: SearchResult, m: Machine, command: string): string {
  const rows = r.results.map((x) => [
    `${x.size / 1000}k`,
    `${fmt(x.exact.p50)} / ${fmt(x.exact.p99)} ms`,
    `${fmt(x.ann.p50)} / ${fmt(x.ann.p99)} ms`,
    fmt(x.recall, 3),
    `**${fmt(x.exact.p50 / x.ann.p50)}×**`,
    s(x.buildS * 1000),
  ]);
  const has100k = r.results.some((x) => x.size >= 100_000);
  return [
    `**Search, short variant** — ${machineLine(m, command)}`,
    '',
    `\`bench/search-ann.ts\`'s measurement (LanceDB, dim 384, cosine, top-10, ${r.queries} queries interleaved exact/ANN, synthetic`,
    'clustered vectors — not real embeddings). Baseline: the exact (brute-force) search of the same table, same queries.',
    has100k
      ? ''
      : 'The 100k size of the full bench (target ≥ 25× at recall@10 ≥ 0.99 there) is left out of this variant: its index build alone takes a minute.',
    '',
    table(['vectors', 'exact p50 / p99 (baseline)', 'ANN p50 / p99', 'recall@10', 'speedup p50', 'index build'], rows),
    '',
    `${s(r.wallMs, 0)} for this part.`,
  ].join('\n');
}

export function renderQuota(r: QuotaResult, m: Machine, command: string): string {
  const fill = r.run.windowFill.map((f) => `${Math.round(f * r.q)}/${r.q}`).join(', ');
  return [
    `**AI quota use, short variant** — ${machineLine(m, command)}`,
    '',
    `\`bench/ai-quota.ts\`'s measurement (\`test/support/ai-load.ts\`) on a shorter window: the fault server answers 429 past`,
    `Q = ${r.q} requests per ${s(r.windowMs, 0)}, the same Q in the limiter, ${r.aiWorkers} AI worker processes sharing it through`,
    `${r.store}, ${r.analyses} analyses (2 requests each), more demand than Q. Baseline: Q itself, i.e. 100 % of the quota and no 429.`,
    '',
    table(
      ['requests', 'accepted', '429s', 'use of Q over the full windows', 'full windows', 'wall'],
      [
        [
          r.run.requests,
          r.run.accepted,
          `**${r.run.rejected429}**`,
          `**${fmt(100 * r.run.utilisation)} %**`,
          fill || '—',
          s(r.run.elapsedMs, 0),
        ],
      ],
    ),
    '',
    `429s ${verdict(TARGETS.quota429, r.run.rejected429)}.`,
  ].join('\n');
}

export interface SummaryInput {
  machine: Machine;
  command: string;
  totalMs: number;
  parts: PartTime[];
  transcode?: TranscodeResult;
  upload?: UploadResult;
  orchestration?: { unpolledPct: number; polledPct: number; events: number };
  batch?: BatchResult;
  kills?: KillResult[];
  search?: SearchResult;
  quota?: QuotaResult;
  peers?: { variant: 'full' | 'quick'; why: string; temporalMs: number; cheapestLabel: string; cheapestMs: number };
  /** What this run left out or shortened, in words. */
  notes: string[];
}

/** The one table of (a)–(g), each figure beside its baseline, and the run's time. */
export function renderSummary(x: SummaryInput): string {
  const rows: string[][] = [];
  const na = (what: string) => rows.push([what, 'not measured (the part failed; see the run log)', '—', '—']);
  if (x.transcode) {
    const a = median(x.transcode.uploads.map((u) => u.transcodeMs));
    const b = median(x.transcode.bareMs);
    rows.push(['(a) transcode activity', `${s(a)}`, `bare ffmpeg ${s(b)}`, `${fmt(a / b, 2)}× (no target)`]);
  } else na('(a) transcode activity');
  if (x.upload) {
    const run = median(x.upload.uploads.map((u) => u.runMs));
    const base = median(x.upload.directMs) + median(x.upload.uploads.map((u) => u.otherActivitiesMs));
    rows.push(['(b) end-to-end upload', s(run), `steps run directly ${s(base)}`, `${fmt(run / base, 2)}× (no target)`]);
  } else na('(b) end-to-end upload');
  if (x.orchestration) {
    rows.push([
      '(c) orchestration share, nobody polling',
      `${fmt(x.orchestration.unpolledPct, 2)} % (${fmt(x.orchestration.events, 0)} events per upload)`,
      "the upload's whole CPU",
      verdict(TARGETS.unpolled, x.orchestration.unpolledPct),
    ]);
    rows.push([
      '(c) orchestration share, polled at 2 Hz',
      `${fmt(x.orchestration.polledPct, 2)} %`,
      "the upload's whole CPU",
      verdict(TARGETS.polled, x.orchestration.polledPct),
    ]);
  } else na('(c) orchestration share');
  if (x.batch) {
    const r = x.batch.bareMs / x.batch.batchMs;
    rows.push([
      `(d) batch of ${x.batch.uploads}`,
      s(x.batch.batchMs),
      `same work bare, back to back ${s(x.batch.bareMs)}`,
      `bare / batch ${verdict(TARGETS.batch, r)}`,
    ]);
  } else na('(d) batch');
  if (x.kills?.length)
    for (const k of x.kills)
      rows.push([
        `(e) kill -9 → retry, ${k.type === 'transcode' ? 'single pass' : 'mid segment'}`,
        s(k.killToRetryMs),
        k.leaseTtlMs > 0
          ? `liveness lease ${s(k.leaseTtlMs, 1)} + watchdog pass (heartbeat timeout ${s(k.heartbeatTimeoutMs, 0)} backstop)`
          : `heartbeat timeout ${s(k.heartbeatTimeoutMs, 0)} + first retry 1 s`,
        verdict(TARGETS.killToRetry, k.killToRetryMs / 1000),
      ]);
  else na('(e) kill → retry');
  if (x.search)
    for (const r of x.search.results)
      rows.push([
        `(f) search, ${r.size / 1000}k vectors, ANN p50`,
        `${fmt(r.ann.p50)} ms, recall ${fmt(r.recall, 3)}`,
        `exact ${fmt(r.exact.p50)} ms`,
        `${fmt(r.exact.p50 / r.ann.p50)}× (target at 100k, not in this variant)`,
      ]);
  else na('(f) search');
  if (x.quota)
    rows.push([
      '(f) AI quota use',
      `${fmt(100 * x.quota.run.utilisation)} % of Q, ${x.quota.run.rejected429} × 429`,
      `Q = ${x.quota.q} per ${s(x.quota.windowMs, 0)}`,
      `429s ${verdict(TARGETS.quota429, x.quota.run.rejected429)}`,
    ]);
  else na('(f) AI quota');
  if (x.peers)
    rows.push([
      `(g) peers (${x.peers.variant} variant), trivial pipeline`,
      `Temporal ${fmt(x.peers.temporalMs)} ms CPU per workflow`,
      `${x.peers.cheapestLabel} ${fmt(x.peers.cheapestMs)} ms`,
      `${fmt(x.peers.temporalMs / x.peers.cheapestMs)}× (no target)`,
    ]);
  else na('(g) peers');
  const total = x.totalMs / 60_000;
  return [
    `${machineLine(x.machine, x.command)} Whole run **${fmt(total)} min** wall (${verdict(TARGETS.total, total)}), build included.`,
    '',
    table(['figure', 'measured', 'baseline (same run)', 'ratio / target'], rows),
    '',
    table(
      ['part', 'wall'],
      x.parts.map((p) => [p.error ? `${p.title} — **failed**: ${p.error}` : p.title, s(p.ms, 0)]),
    ),
    ...(x.notes.length ? ['', ...x.notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
}
