/**
 * `npm run soak`: a seeded chaos soak (see HELP in options.ts). Prints the schedule and its replay
 * command, starts a stack of its own, submits the uploads and injects the faults at their
 * scheduled times, waits (bounded) for every upload to end, gathers what the system holds,
 * checks every invariant, writes the summary and timeline, cleans up everything it started,
 * and exits non-zero with the seed and the first violation.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sleep } from '../../test/support/ops';
import { writeEvidence } from './evidence';
import { expiringFacts, FRESH_URL_TTL_SEC, type RefreshRecord } from './expiring';
import { activeFfmpeg, injectFault, NOT_INJECTED, type FaultRecord } from './faults';
import { gatherSnapshot, outcomeOf, said, statusOf } from './gather';
import { makeInput } from './inputs';
import { checkInvariants, verdict, type StatusSample, type Violation } from './invariants';
import { HELP, parseOptions, type SoakOptions } from './options';
import { renderSummary, renderTimeline } from './report';
import { planSoak, renderSchedule, type SoakPlan, type UploadSpec } from './schedule';
import { startSoakStack, type SoakStack } from './soak-stack';
import { uploadThroughApi } from './upload-source';

export interface SoakResult {
  ok: boolean;
  line: string;
  violations: Violation[];
  summaryFile: string;
}

/** What the hard cap and Ctrl-C kill before the process ends (the running soak's stack). */
let emergencyKill: (() => void) | undefined;

/** Seconds the end of a run keeps for gathering, replaying histories and cleaning up. */
const GATHER_RESERVE_SEC = 60;

export function replayCommand(plan: SoakPlan, o: SoakOptions): string {
  if (o.ci) return 'npm run soak -- --ci';
  return [
    `npm run soak -- --seed ${plan.seed} --uploads ${plan.uploads.length} --faults ${plan.faults.length} --duration ${plan.durationSec}`,
    o.realMedia ? ' --real-media' : '',
    o.brokenBuild ? ' --broken-build' : '',
  ].join('');
}

export function notInjectedLines(plan: SoakPlan): string[] {
  const kinds = [...new Set(plan.faults.map((f) => f.kind))].filter((k) => NOT_INJECTED[k]);
  return kinds.map((k) => `${k} (${NOT_INJECTED[k]})`);
}

/** The not-injected line for the network cuts of a plan when the stack has no lab host (`problem` says why). */
export function labNotInjected(plan: SoakPlan, problem: string | undefined): string | undefined {
  const cuts = plan.faults.filter((f) => f.kind === 'cut-worker-network').length;
  return problem && cuts ? `cut-worker-network ×${cuts} (${problem})` : undefined;
}

export async function runSoak(plan: SoakPlan, o: SoakOptions, log: (line: string) => void = console.log): Promise<SoakResult> {
  const t0 = Date.now();
  const hardDeadline = t0 + o.capSec * 1000;
  const notInjected = notInjectedLines(plan);
  log(renderSchedule(plan).replace(/^replay: .*$/m, `replay: ${replayCommand(plan, o)}`));
  log(notInjected.length ? `not injected: ${notInjected.join('; ')}` : 'not injected: nothing (every scheduled fault kind is injected)');

  const soak = await startSoakStack({ brokenBuild: o.brokenBuild });
  const stopped = new Set<number>();
  emergencyKill = () => soak.killNow();
  try {
    log(
      `stack up in ${((Date.now() - t0) / 1000).toFixed(1)} s (Temporal ${soak.temporal.address}, data ${soak.dataDir}; ${soak.workerHost.description})`,
    );
    // Known only once the stack tried to mount it: said before the schedule starts, like the rest.
    if (soak.scratchDisk.problem && plan.faults.some((f) => f.kind === 'scratch-disk-full')) {
      notInjected.push(`scratch-disk-full (${soak.scratchDisk.problem})`);
      log(`not injected: scratch-disk-full (${soak.scratchDisk.problem})`);
    }
    if (soak.objects.problem && plan.faults.some((f) => f.kind === 'restart-minio')) {
      notInjected.push(`restart-minio (${soak.objects.problem})`);
      log(`not injected: restart-minio (${soak.objects.problem})`);
    }
    log(
      `objects: ${soak.objects.backend === 's3' ? `MinIO ${soak.objects.minio.endpoint}` : `the local disk store (${soak.objects.problem})`}`,
    );
    const cutMissing = labNotInjected(plan, soak.workerHost.problem);
    if (cutMissing) {
      notInjected.push(cutMissing);
      log(`not injected: ${cutMissing}`);
    }
    const sourceSec = new Map<string, number>();
    const files = new Map<string, string>();
    for (const u of plan.uploads) {
      const made = await makeInput(u, soak.ingestDir, o.realMedia);
      files.set(u.id, made.file);
      if (made.durationSec) sourceSec.set(u.id, made.durationSec);
    }
    log(`inputs ready at ${((Date.now() - t0) / 1000).toFixed(1)} s; schedule starts`);
    return await drive(plan, o, soak, { t0, hardDeadline, files, sourceSec, stopped, notInjected, log });
  } finally {
    // A process left SIGSTOPped would ignore the workers' SIGTERM.
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    const dataDir = soak.dataDir;
    await soak.stop().catch((err: Error) => log(`stack stop: ${err.message}`));
    emergencyKill = undefined;
    for (const pid of await activeFfmpeg(dataDir)) {
      log(`killing leftover ffmpeg ${pid}`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    log(`stack stopped; ${((Date.now() - t0) / 1000).toFixed(0)} s from the first line to the end of the cleanup`);
  }
}

interface DriveContext {
  t0: number;
  hardDeadline: number;
  files: Map<string, string>;
  sourceSec: Map<string, number>;
  stopped: Set<number>;
  notInjected: string[];
  log: (line: string) => void;
}

async function drive(plan: SoakPlan, o: SoakOptions, soak: SoakStack, c: DriveContext): Promise<SoakResult> {
  const start = Date.now();
  const now = () => (Date.now() - start) / 1000;
  const waitUntilSec = (sec: number) => sleep(Math.max(0, start + sec * 1000 - Date.now()));
  const stopWaitingAt = c.hardDeadline - GATHER_RESERVE_SEC * 1000;

  const submittedAt = new Map<string, number>();
  const endedAt = new Map<string, number>();
  const refused = new Map<string, string>();
  const deleted = new Set<string>();
  const samples: StatusSample[] = [];
  const submitWaiters = new Map<string, ((ok: boolean) => void)[]>();
  const refreshes: RefreshRecord[] = [];
  const specOf = new Map(plan.uploads.map((u) => [u.id, u]));
  const notRefreshed = new Set<string>();
  let activeFaults = 0;

  const submit = async (u: UploadSpec): Promise<void> => {
    await waitUntilSec(u.atSec);
    const file = c.files.get(u.id)!;
    // An expiring URL is issued expired (its expiry is now): the first download is refused, deterministically.
    let source: unknown =
      u.source === 'url-expiring'
        ? { kind: 'url', url: soak.sources.signedUrl(file, Date.now()) }
        : u.source.startsWith('url')
          ? { kind: 'url', url: soak.sources.url(file, u.source === 'url-slow') }
          : { kind: 'file', path: file };
    let ok = false;
    if (u.source === 'resumable') {
      // Through the upload API, retrying 5xx answers as a client would; one that still fails (Temporal needs no part in it) falls back to a file source, said in the log.
      source = await uploadThroughApi(soak.api, u.id, path.join(soak.ingestDir, file)).then(
        (body) => body.source,
        (err: Error) => {
          c.log(`${now().toFixed(1).padStart(7)}s  ${u.id}: upload API failed (${err.message}); submitted as a file source`);
          return source;
        },
      );
    }
    // 5xx (Temporal down for a moment): the client retries, as a user's would.
    while (Date.now() < stopWaitingAt) {
      const res = await soak.api.app.inject({ method: 'POST', url: '/videos', payload: { videoId: u.id, source } });
      if (res.statusCode === 202 || res.statusCode === 200) {
        ok = true;
        break;
      }
      if (res.statusCode >= 400 && res.statusCode < 500) {
        const body = res.json() as { error?: string | { type?: string }; type?: string };
        const type = typeof body.error === 'object' ? body.error.type : (body.type ?? body.error);
        refused.set(u.id, type ?? `HTTP ${res.statusCode}`);
        endedAt.set(u.id, now());
        ok = true;
        break;
      }
      await sleep(2_000);
    }
    submittedAt.set(u.id, now());
    for (const w of submitWaiters.get(u.id) ?? []) w(ok);
    submitWaiters.delete(u.id);
  };

  const faultRecords: FaultRecord[] = [];
  const runFault = async (spec: SoakPlan['faults'][number]): Promise<void> => {
    await waitUntilSec(spec.atSec);
    if (Date.now() > stopWaitingAt) return;
    activeFaults += 1;
    const rec = await injectFault(spec, {
      soak,
      now,
      stopped: c.stopped,
      markDeleted: (id) => deleted.add(id),
      submitted: (id) =>
        submittedAt.has(id)
          ? Promise.resolve(true)
          : new Promise((resolve) => submitWaiters.set(id, [...(submitWaiters.get(id) ?? []), resolve])),
    }).finally(() => (activeFaults -= 1));
    faultRecords.push(rec);
    c.log(`${rec.startSec.toFixed(1).padStart(7)}s  fault ${spec.kind}${spec.worker ? ` ${spec.worker}` : ''}: ${rec.note ?? ''}`);
  };

  // The simulated operator: polls the status of each open url-expiring upload every second; one
  // that waits for a new source URL gets one (a signed URL valid for FRESH_URL_TTL_SEC). An
  // answer other than 202 (409: no longer waiting, 503: Temporal down) is tried again next poll.
  const operatorRefresh = async (id: string): Promise<void> => {
    const file = c.files.get(id)!;
    const sentAt = Date.now();
    const lastExpired = soak.sources.signedFetches.filter((f) => f.file === file && f.verdict === 'expired' && f.at <= sentAt).pop();
    const res = await soak.api.app.inject({
      method: 'POST',
      url: `/videos/${id}/refresh-url`,
      payload: { url: soak.sources.signedUrl(file, sentAt + FRESH_URL_TTL_SEC * 1000) },
    });
    const errorType = res.statusCode === 202 ? undefined : ((res.json() as { error?: { type?: string } }).error?.type ?? undefined);
    const rec: RefreshRecord = {
      videoId: id,
      atSec: Math.round(((sentAt - start) / 1000) * 10) / 10,
      sentAtMs: sentAt,
      code: res.statusCode,
      ...(errorType ? { errorType } : {}),
      ...(lastExpired ? { waitedSec: Math.round((sentAt - lastExpired.at) / 100) / 10 } : {}),
    };
    refreshes.push(rec);
    c.log(
      `${rec.atSec.toFixed(1).padStart(7)}s  ${id} refresh-url → ${rec.code}${errorType ? ` ${errorType}` : ''}${rec.waitedSec !== undefined ? ` (waited ${rec.waitedSec.toFixed(1)} s since its URL was refused as expired)` : ''}`,
    );
  };
  let watching = true;
  const operate = async () => {
    while (watching) {
      for (const u of plan.uploads) {
        if (u.source !== 'url-expiring' || !submittedAt.has(u.id) || endedAt.has(u.id) || deleted.has(u.id)) continue;
        const s = await statusOf(soak, u.id).catch(() => undefined);
        if (s?.body?.status === 'waiting_for_source')
          await operatorRefresh(u.id).catch((err: Error) => c.log(`refresh-url ${u.id}: ${err.message}`));
      }
      await sleep(1_000);
    }
  };
  const operator = operate();

  // Watches unfinished uploads (their end times for the timeline) and, while a fault is on,
  // samples status answers for the truthfulness check.
  const watch = async () => {
    while (watching) {
      const open = [...submittedAt.keys()].filter((id) => !endedAt.has(id));
      let sampled = 0;
      for (const id of open) {
        const s = await statusOf(soak, id).catch(() => undefined);
        if (!s) continue;
        if (activeFaults > 0 && sampled < 4) {
          sampled += 1;
          samples.push({ videoId: id, atSec: Math.round(now() * 10) / 10, said: said(s), ended: 'missing' });
        }
        if (s.body?.status === 'waiting_for_source' && specOf.get(id)?.source !== 'url-expiring' && !notRefreshed.has(id)) {
          // Only the soak's signed URLs expire: a plain URL waiting for a new one is left waiting, and ends as a violation.
          notRefreshed.add(id);
          c.log(`${now().toFixed(1).padStart(7)}s  ${id} waits for a new source URL though its URL does not expire; left waiting`);
        }
        const out = outcomeOf(s, deleted.has(id));
        if (out.status !== 'running' && out.status !== 'missing') {
          endedAt.set(id, now());
          c.log(`${now().toFixed(1).padStart(7)}s  ${id} ${out.status}${out.errorType ? ` ${out.errorType}` : ''}`);
        }
      }
      await sleep(2_000);
    }
  };
  const watcher = watch();

  await Promise.all([...plan.uploads.map(submit), ...plan.faults.map(runFault)]);
  while (Date.now() < stopWaitingAt && plan.uploads.some((u) => !endedAt.has(u.id))) await sleep(1_000);
  watching = false;
  await Promise.all([watcher, operator]);
  // How long each run took to fetch its new URL once the operator sent it (the signal's path).
  for (const r of refreshes) {
    const file = c.files.get(r.videoId);
    const served = soak.sources.signedFetches.find((f) => f.file === file && f.verdict === 'served' && f.at >= r.sentAtMs);
    if (r.code === 202 && served) r.resumedSec = Math.round((served.at - r.sentAtMs) / 100) / 10;
  }
  const unfinished = plan.uploads.filter((u) => !endedAt.has(u.id)).length;
  c.log(
    `${now().toFixed(1).padStart(7)}s  ${unfinished ? `${unfinished} uploads unfinished at the cap; ` : 'every upload ended; '}gathering`,
  );

  const expiringSources = expiringFacts(plan.uploads, refused, (id) => c.files.get(id), soak.sources.signedFetches, refreshes);
  const g = await gatherSnapshot({ soak, uploads: plan.uploads, deleted, refused, sourceSec: c.sourceSec, samples, expiringSources });
  // AI faults recover when the provider's next billed answer arrives after the window.
  for (const r of faultRecords) {
    if (!r.spec.kind.startsWith('ai-') || !r.injected) continue;
    const endMs = start + r.endSec * 1000;
    const next = soak.fault.billed.find((b) => b.at >= endMs);
    if (next) r.recoverySec = (next.at - endMs) / 1000;
  }
  const violations = checkInvariants(g.snapshot);
  const v = verdict(plan.seed, violations);
  if (violations.length > 0) {
    // Before the stack stops: the histories and the workers' logs go with it.
    const kept = await writeEvidence(soak, violations, o.outDir).catch((err: Error) => {
      c.log(`evidence not kept: ${err.message}`);
      return undefined;
    });
    if (kept) c.log(`evidence kept in ${kept.dir}: ${kept.histories.length} histories, the logs of ${kept.logs.length} worker kinds`);
  }
  const wallSec = (Date.now() - c.t0) / 1000;
  const spans = [...submittedAt].map(([id, fromSec]) => ({ id, fromSec, toSec: endedAt.get(id) ?? now() }));
  faultRecords.sort((a, b) => a.startSec - b.startSec);
  const facts = {
    plan,
    wallSec,
    spans,
    faults: faultRecords,
    snapshot: g.snapshot,
    violations,
    verdictLine: v.line,
    gaps: g.gaps,
    pointSpaces: g.pointSpaces,
    retriedAttempts: g.retriedAttempts,
    histories: g.histories,
    ledgerByKind: g.ledgerByKind,
    billedRequests: soak.fault.billed.length,
    attribution: g.attribution,
    refreshes,
    replayCommand: replayCommand(plan, o),
    notInjected: c.notInjected,
  };
  await mkdir(o.outDir, { recursive: true });
  const summaryFile = path.join(o.outDir, 'soak-summary.md');
  const summary = renderSummary(facts);
  await writeFile(summaryFile, summary);
  await writeFile(path.join(o.outDir, 'soak-timeline.svg'), renderTimeline(facts));
  await writeFile(
    path.join(o.outDir, 'soak-log.json'),
    JSON.stringify(
      {
        plan,
        faults: faultRecords,
        spans,
        violations,
        samples: samples.length,
        refreshes,
        signedFetches: soak.sources.signedFetches.map((f) => ({ ...f, at: undefined, atSec: (f.at - start) / 1000 })),
        wallSec,
      },
      null,
      2,
    ),
  );
  c.log(summary);
  c.log(v.line);
  return { ok: v.ok, line: v.line, violations, summaryFile };
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o === 'help') {
    console.log(HELP);
    return;
  }
  const plan = planSoak({ seed: o.seed, uploads: o.uploads, faults: o.faults, durationSec: o.durationSec });
  // The hard cap holds even when a step hangs: past it (plus the cleanup's own minute) the process ends.
  const cap = setTimeout(
    () => {
      console.error(`soak seed ${plan.seed}: hard cap of ${o.capSec} s exceeded; exiting`);
      emergencyKill?.();
      process.exit(3);
    },
    (o.capSec + 60) * 1000,
  );
  cap.unref();
  // However the process ends (an uncaught error, a closed stdout pipe), the stack's processes end with it:
  // the Temporal server runs in a group of its own and would outlive us.
  process.on('exit', () => emergencyKill?.());
  process.stdout.on('error', () => undefined);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`soak seed ${plan.seed}: ${sig}; killing the stack`);
      emergencyKill?.();
      process.exit(130);
    });
  }
  const result = await runSoak(plan, o);
  process.exitCode = result.ok ? 0 : 1;
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exitCode = 2;
  });
}
