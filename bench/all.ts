// `npm run bench`: every benchmark docs/benchmarks.md reports that the project's claims rest on,
// in one run, one after another, on the product's defaults, each figure beside a baseline
// measured in the same run; then the generated sections of docs/benchmarks.md are rewritten
// (between their `<!-- name:start/end -->` markers; the prose around them stays).
//   npm run bench                    full run (< 20 min on 2 cores), writes docs/benchmarks.md
//   npm run bench -- --quick         smoke run (a few minutes): prints; writes only with --write
//   --doc=FILE                       write FILE instead of docs/benchmarks.md
//   --peers=full|quick|auto          the peers part (auto: full when the run still fits in 20 min)
//   --no-build                       dist/ is already built from this tree
// Measures CPU and wall time: on a shared machine run it alone (flock /tmp/biblio-heavy.lock …).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeSampleClip } from '../src/media/sample-clip';
import { runQuota } from '../test/support/ai-load';
import { freePort, startHttpStack, type HttpStack } from '../test/support/http-stack';
import { directMediaSteps } from './all/direct-steps';
import { bareTranscodes, batch, ingest, killDuringEncode, MediaWorker, uploadRun } from './all/pipeline';
import {
  renderBatch,
  renderKill,
  renderQuota,
  renderSearch,
  renderSummary,
  renderTranscode,
  renderUpload,
  type BatchResult,
  type KillResult,
  type Machine,
  type PartTime,
  type QuotaResult,
  type SearchResult,
  type SummaryInput,
  type UploadRun,
} from './all/render';
import { median, replaceRows, replaceSection, sectionOf } from './all/sections';
import { ORCHESTRATION_CLIP, orchestrationStackArgs, runOrchestrationBench, type OrchestrationResult } from './orchestration';
import { renderPeersMarkdown, runPeers, type PeersReport } from './peers';
import { killAllSync, stopAll } from './peers/children';
import { temporal } from './peers/engines/temporal';
import { benchSize } from './search-ann';

const ROOT = path.resolve(__dirname, '..');
const DOC = path.join(ROOT, 'docs', 'benchmarks.md');
const BUDGET_MS = 20 * 60_000;
/** What a full peers run took on this machine (docs/benchmarks.md#peers), with a margin. */
const PEERS_FULL_MS = 480_000;

interface Counts {
  orchestrationUploads: number;
  idleSeconds: number;
  bareTranscodes: number;
  batch: number;
  segmentClipSec: number;
  segmentsBeforeKill: number;
  searchSize: number;
  searchQueries: number;
  quota: { q: number; windowMs: number; analyses: number };
}

const FULL: Counts = {
  orchestrationUploads: 8,
  idleSeconds: 20,
  bareTranscodes: 3,
  batch: 10,
  segmentClipSec: 40,
  segmentsBeforeKill: 1,
  searchSize: 10_000,
  searchQueries: 200,
  quota: { q: 20, windowMs: 10_000, analyses: 40 },
};

const QUICK: Counts = {
  orchestrationUploads: 1,
  idleSeconds: 5,
  bareTranscodes: 1,
  batch: 3,
  segmentClipSec: 20,
  segmentsBeforeKill: 0,
  searchSize: 2_000,
  searchQueries: 50,
  quota: { q: 10, windowMs: 4_000, analyses: 12 },
};

function parseArgs(argv: string[]) {
  const known = /^--(quick|write|no-build|doc=.+|peers=(full|quick|auto)|only=[a-g,]+)$/;
  const bad = argv.find((a) => !known.test(a));
  if (bad)
    throw new Error(
      `unknown option ${bad}; usage: bench/all.ts [--quick] [--write] [--doc=FILE] [--peers=full|quick|auto] [--no-build] [--only=c,e,…]`,
    );
  const quick = argv.includes('--quick');
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return {
    quick,
    write: !quick || argv.includes('--write'),
    build: !argv.includes('--no-build'),
    doc: path.resolve(value('doc') ?? DOC),
    peers: (value('peers') ?? 'auto') as 'full' | 'quick' | 'auto',
    /** Re-measure only these parts (letters a–g) after a change that touches them; the other sections stay. */
    only: value('only')?.split(',').filter(Boolean),
  };
}

async function machine(): Promise<Machine> {
  const ffmpeg = execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0]!;
  return {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    nproc: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    load: os.loadavg()[0]!,
    node: process.version,
    ffmpeg: ffmpeg.replace(/^ffmpeg version (\S+).*/, 'ffmpeg $1'),
    temporal: (await temporal.versions()).replace(/^CLI /, ''),
  };
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const counts = opts.quick ? QUICK : FULL;
  const command = opts.quick ? 'npm run bench -- --quick' : 'npm run bench';
  const began = Date.now();
  const clock = () => {
    const s = Math.round((Date.now() - began) / 1000);
    return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  };
  const log = (line: string) => console.log(`[${clock()}] ${line}`);
  const parts: PartTime[] = [];
  const chosen = (id: string) => !opts.only || opts.only.includes(id[0]!);
  const part = async <T>(id: string, title: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const wanted = id === 'build' || (id === 'stack' ? ['a', 'c', 'd', 'e'].some(chosen) : chosen(id));
    if (!wanted) return undefined;
    log(`${title}…`);
    const t0 = Date.now();
    try {
      const out = await fn();
      parts.push({ id, title, ms: Date.now() - t0 });
      log(`${title}: done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      return out;
    } catch (err) {
      const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
      parts.push({ id, title, ms: Date.now() - t0, error: msg });
      log(`${title}: FAILED after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${err instanceof Error ? (err.stack ?? msg) : msg}`);
      return undefined;
    }
  };

  if (opts.build)
    await part('build', 'npm run build', async () => {
      const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`npm run build exited with ${r.status}`);
    });

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-all-'));
  const clipName = 'clip.mp4';
  const longName = 'long.mp4';
  const clip = `a ${ORCHESTRATION_CLIP.seconds}-s ${ORCHESTRATION_CLIP.width}x${ORCHESTRATION_CLIP.height} clip with a tone`;
  let orchestration: OrchestrationResult | undefined;
  let uploads: UploadRun[] | undefined;
  let bare: number[] | undefined;
  let batchResult: BatchResult | undefined;
  const kills: KillResult[] = [];
  let stack: (HttpStack & { metricsUrl: string }) | undefined;
  try {
    stack = await part('stack', 'clips and the stack (API + four workers, product defaults)', async () => {
      await makeSampleClip(path.join(scratch, clipName), ORCHESTRATION_CLIP);
      await makeSampleClip(path.join(scratch, longName), { ...ORCHESTRATION_CLIP, seconds: counts.segmentClipSec });
      const metricsPort = await freePort();
      const s = await startHttpStack('bench-all', orchestrationStackArgs(metricsPort));
      await ingest(s, path.join(scratch, clipName), clipName);
      await ingest(s, path.join(scratch, longName), longName);
      return Object.assign(s, { metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` });
    });
    const st = stack;
    if (st) {
      orchestration = await part('c', '(c) orchestration share', () =>
        runOrchestrationBench({
          uploads: counts.orchestrationUploads,
          idleSeconds: counts.idleSeconds,
          log: (l) => log(`  ${l}`),
          shared: { stack: st, metricsUrl: st.metricsUrl, clipName },
          command,
        }),
      );
      // The uploads of (c), read back from their histories: (a) and (b) are about them.
      if (orchestration) uploads = await Promise.all(orchestration.uploads.map((u) => uploadRun(st, u.videoId)));
      bare = await part('a', '(a) bare ffmpeg encodes of the same clip', () =>
        bareTranscodes(path.join(scratch, clipName), scratch, counts.bareTranscodes),
      );
      batchResult = await part('d', `(d) batch of ${counts.batch} vs the same work bare`, async () => {
        const direct = await directMediaSteps(path.join(scratch, 'direct'), st.ingestDir);
        try {
          // One direct run first, unmeasured: the first call loads code the pipeline's workers have loaded already.
          await direct.run('bare-warm', clipName);
          return await batch(st, direct, clipName, counts.batch, (l) => log(l));
        } finally {
          await direct.close();
        }
      });
      await part('e', '(e) kill -9 of the media worker → retry', async () => {
        const worker = new MediaWorker(st, st.workers.procs.get('media')!);
        const single = await killDuringEncode(st, worker, {
          videoId: 'kill-single',
          clipName,
          clipSec: ORCHESTRATION_CLIP.seconds,
          type: 'transcode',
          atPercent: 40,
        });
        kills.push(single);
        log(`  single pass: kill → attempt 2 in ${(single.killToRetryMs / 1000).toFixed(1)} s`);
        const segment = await killDuringEncode(st, worker, {
          videoId: 'kill-segment',
          clipName: longName,
          clipSec: counts.segmentClipSec,
          type: 'encodeSegment',
          atPercent: 40,
          segmentsBefore: counts.segmentsBeforeKill,
        });
        kills.push(segment);
        log(`  segment: kill → attempt 2 in ${(segment.killToRetryMs / 1000).toFixed(1)} s`);
      });
    }
  } finally {
    await stack?.stop().catch((err: unknown) => log(`stack stop failed: ${String(err)}`));
  }

  const search = await part('f-search', '(f) search, short variant', async (): Promise<SearchResult> => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-ann-'));
    const t0 = Date.now();
    try {
      const r = await benchSize(root, counts.searchSize, counts.searchQueries);
      return { results: [r], queries: counts.searchQueries, wallMs: Date.now() - t0 };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
  const quota = await part('f-quota', '(f) AI quota use, short variant', async (): Promise<QuotaResult> => {
    const { q, windowMs, analyses } = counts.quota;
    const run = await runQuota({ requestsPerWindow: q, windowMs, aiWorkers: 2, analyses });
    return { q, windowMs, aiWorkers: 2, analyses, store: 'PostgreSQL (no REDIS_URL)', run };
  });

  const spent = Date.now() - began;
  const peersVariant: 'full' | 'quick' =
    opts.peers === 'auto' ? (!opts.quick && spent + PEERS_FULL_MS <= BUDGET_MS - 30_000 ? 'full' : 'quick') : opts.peers;
  const peersWhy =
    opts.peers !== 'auto'
      ? `chosen with --peers=${opts.peers}`
      : opts.quick
        ? 'smoke run: Temporal and BullMQ only'
        : `the run had used ${(spent / 60_000).toFixed(1)} min before it; the full variant takes ~${PEERS_FULL_MS / 60_000} min` +
          (peersVariant === 'full' ? ' and still fit in 20' : ' and would not have fit in 20');
  log(`peers: ${peersVariant} variant (${peersWhy})`);
  const peers: PeersReport | undefined = await part('g', `(g) peers, ${peersVariant} variant`, () =>
    runPeers({ quick: peersVariant === 'quick', only: opts.quick ? ['temporal', 'bullmq'] : undefined, log: (l) => log(`  ${l}`) }),
  );
  await stopAll();
  await rm(scratch, { recursive: true, force: true });
  const totalMs = Date.now() - began;

  // The report.
  const m = await machine();
  const sections: [string, string, string][] = [];
  const transcode = uploads && bare && batchResult ? { clip, uploads, bareMs: bare, directMs: batchResult.directTranscodeMs } : undefined;
  if (transcode) sections.push(['bench-transcode', '(a) Transcode vs bare ffmpeg', renderTranscode(transcode, m, command)]);
  const upload = uploads && batchResult ? { clip, uploads, directMs: batchResult.bareRunsMs } : undefined;
  if (upload) sections.push(['bench-upload', '(b) Upload vs its steps', renderUpload(upload, m, command)]);
  if (orchestration) sections.push(['orchestration', 'Orchestration', orchestration.markdown]);
  if (batchResult) sections.push(['bench-batch', '(d) Batch', renderBatch(batchResult, m, command, clip)]);
  if (kills.length) sections.push(['bench-kill', '(e) Kill and retry', renderKill(kills, m, command)]);
  if (search) sections.push(['bench-search', 'Search, short', renderSearch(search, m, command)]);
  if (quota) sections.push(['bench-quota', 'AI quota, short', renderQuota(quota, m, command)]);
  if (peers) sections.push(['peers', 'Peers', renderPeersMarkdown(peers)]);

  const share = (mode: 'unpolled' | 'polled') => median(orchestration?.uploads.filter((u) => u.mode === mode).map((u) => u.sharePct) ?? []);
  const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / Math.max(1, xs.length);
  const trivial = peers?.rows.filter((r) => r.scenario === 'trivial' && !r.error && r.completed > 0) ?? [];
  const t = trivial.find((r) => r.engine === 'temporal' && r.label.includes('(activities)'));
  const cheapest = trivial.filter((r) => r.engine !== 'temporal').sort((a, b) => a.totalMsPerWorkflow - b.totalMsPerWorkflow)[0];
  const notes = [
    `Counts of this variant: (c) ${counts.orchestrationUploads} uploads per mode after a warm-up and a ${counts.idleSeconds}-s idle window` +
      ` (its own default is 8); (a) ${counts.bareTranscodes} bare encodes; (d) ${counts.batch} uploads; (e) a ${ORCHESTRATION_CLIP.seconds}-s and a` +
      ` ${counts.segmentClipSec}-s clip; (f) ${counts.searchSize / 1000}k vectors, ${counts.searchQueries} queries, and Q = ${counts.quota.q} per` +
      ` ${counts.quota.windowMs / 1000} s with ${counts.quota.analyses} analyses; (g) peers ${peersVariant} variant (${peersWhy}).`,
    '(c) shares in this table are medians per upload; the section below gives means and ranges.',
  ];
  const summary: SummaryInput = {
    machine: m,
    command,
    totalMs,
    parts,
    transcode,
    upload,
    orchestration: orchestration
      ? { unpolledPct: share('unpolled'), polledPct: share('polled'), events: mean(orchestration.uploads.map((u) => u.events)) }
      : undefined,
    batch: batchResult,
    kills: kills.length ? kills : undefined,
    search,
    quota,
    peers:
      t && cheapest
        ? {
            variant: peersVariant,
            why: peersWhy,
            temporalMs: t.totalMsPerWorkflow,
            cheapestLabel: cheapest.label,
            cheapestMs: cheapest.totalMsPerWorkflow,
          }
        : undefined,
    notes,
  };
  if (!opts.only) sections.unshift(['bench-summary', 'One run of everything', renderSummary(summary)]);
  else {
    // A partial run updates the summary's rows of the parts it re-measured, and says so.
    const earlier = sectionOf(await readFile(opts.doc, 'utf8'), 'bench-summary') ?? '';
    const labels = opts.only.map((l) => `(${l})`);
    const note = `Rows ${labels.join(', ')} re-measured ${m.date} by \`npm run bench -- --only=${opts.only.join(',')}\` (the other rows are from the run above).`;
    sections.unshift([
      'bench-summary',
      'One run of everything',
      replaceRows(earlier.replace(/\n\nRows \(.*$/s, ''), renderSummary(summary), labels, note),
    ]);
  }
  const failed = parts.filter((p) => p.error);
  for (const [, title, markdown] of sections) console.log(`\n### ${title}\n\n${markdown}`);
  if (opts.write) {
    let doc = await readFile(opts.doc, 'utf8');
    for (const [name, title, markdown] of sections) doc = replaceSection(doc, name, markdown, title);
    await writeFile(opts.doc, doc);
    log(`wrote ${sections.length} sections of ${path.relative(process.cwd(), opts.doc)}`);
  } else log('not written (--quick without --write)');
  log(`total ${(totalMs / 60_000).toFixed(1)} min${failed.length ? `; FAILED parts: ${failed.map((p) => p.id).join(', ')}` : ''}`);
  if (failed.length) process.exitCode = 1;
}

process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => void stopAll().finally(() => process.exit(130)));
main().then(
  // Pools and clients of the parts may keep the event loop alive: the run is over.
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
