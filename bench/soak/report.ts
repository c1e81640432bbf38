/**
 * The soak's summary, read at a glance: uploads by outcome, faults by kind, recovery p50/p99,
 * work redone, cost, the gaps in what was checked, the verdict; and a timeline (hand-written
 * SVG) of in-flight uploads and faults. Pure: text in, text out.
 */
import type { FaultRecord } from './faults';
import type { Attribution } from './gather';
import type { RefreshRecord } from './expiring';
import { INVARIANTS, type Snapshot, type Violation } from './invariants';
import type { SoakPlan, UploadSpec } from './schedule';

export interface RunFacts {
  plan: SoakPlan;
  wallSec: number;
  /** Per upload: when it was submitted and when it was last seen unfinished / seen ended (seconds). */
  spans: { id: string; fromSec: number; toSec: number }[];
  faults: FaultRecord[];
  snapshot: Snapshot;
  violations: Violation[];
  verdictLine: string;
  gaps: string[];
  /** Collections each video has points in (shown for the vector-points violations). */
  pointSpaces: Map<string, string[]>;
  retriedAttempts: number;
  histories: number;
  ledgerByKind: Map<string, number>;
  billedRequests: number;
  /** How the billed requests were attributed to uploads for the repeat check. */
  attribution: Pick<Attribution, 'byLedger' | 'byBody' | 'byTwin' | 'unattributed'>;
  /** Every POST /videos/:id/refresh-url the simulated operator sent. */
  refreshes: RefreshRecord[];
  replayCommand: string;
  notInjected: string[];
}

export function percentile(xs: number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const fmt = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(1)} s`);

export function renderSummary(f: RunFacts): string {
  const outcomes = new Map<string, number>();
  for (const u of f.plan.uploads) {
    const o = f.snapshot.outcomes.get(u.id);
    const key =
      o?.status === 'ready'
        ? `ready (analysis ${o.analysis ?? '?'}${o.analysisReason ? `: ${o.analysisReason}` : ''})`
        : o?.status === 'failed'
          ? `failed ${o.errorType ?? '(no reason)'}${u.media.kind === 'poison' ? ' — poison' : ''}`
          : (o?.status ?? 'missing');
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  }
  const byKind = new Map<string, { n: number; injected: number }>();
  for (const r of f.faults) {
    const k = byKind.get(r.spec.kind) ?? { n: 0, injected: 0 };
    k.n += 1;
    if (r.injected) k.injected += 1;
    byKind.set(r.spec.kind, k);
  }
  const recoveries = f.faults.flatMap((r) => (r.recoverySec !== undefined ? [r.recoverySec] : []));
  const perInvariant = new Map<string, number>();
  for (const v of f.violations) perInvariant.set(v.invariant, (perInvariant.get(v.invariant) ?? 0) + 1);

  const lines = [
    `# Soak seed ${f.plan.seed}`,
    '',
    `**${f.verdictLine}**`,
    '',
    `${f.plan.uploads.length} uploads, ${f.plan.faults.length} faults scheduled over ${f.plan.durationSec} s; wall time ${f.wallSec.toFixed(0)} s.`,
    `Replay: \`${f.replayCommand}\``,
    '',
    '## Uploads by outcome',
    '',
    '| outcome | uploads |',
    '|---|---|',
    ...[...outcomes].sort().map(([k, n]) => `| ${k} | ${n} |`),
    '',
    '## Faults by kind',
    '',
    '| kind | scheduled | injected |',
    '|---|---|---|',
    ...[...byKind].sort().map(([k, v]) => `| ${k} | ${v.n} | ${v.injected} |`),
    '',
    f.notInjected.length ? `Not injected (named at the start): ${f.notInjected.join('; ')}.` : 'Every scheduled fault kind was injected.',
    '',
    `Recovery (a killed/restarted part ready again, an AI window to the next billed answer): p50 ${fmt(percentile(recoveries, 50))}, p99 ${fmt(percentile(recoveries, 99))} over ${recoveries.length} faults.`,
    '',
    '## Work redone and cost',
    '',
    `- Activity attempts beyond the first, over ${f.histories} workflow histories: ${f.retriedAttempts}`,
    `- Paid requests the provider billed: ${f.billedRequests}`,
    `- Billed requests attributed to an upload for the repeat check: ${f.billedRequests - f.attribution.unattributed} of ${f.billedRequests} (by the ledger ${f.attribution.byLedger}, by the body ${f.attribution.byBody}, as a twin ${f.attribution.byTwin})`,
    `- Ledger by kind: ${[...f.ledgerByKind].map(([k, q]) => `${k} ${Math.round(q * 100) / 100}`).join(', ') || 'nothing'}`,
    '',
    '## Expiring source URLs',
    '',
    ...refreshSummary(f.plan.uploads, f.refreshes),
    '',
    '## Invariants',
    '',
    '| invariant | violations |',
    '|---|---|',
    ...Object.entries(INVARIANTS).map(([k, text]) => `| ${text} | ${perInvariant.get(k) ?? 0} |`),
    '',
    ...(f.violations.length
      ? [
          'First violations:',
          '',
          ...f.violations.slice(0, 10).map((v) => {
            const spaces = v.invariant === 'vectorPoints' && v.videoId ? f.pointSpaces.get(v.videoId) : undefined;
            return `- ${v.invariant}${v.videoId ? ` (${v.videoId})` : ''}: ${v.detail}${spaces ? ` — in ${spaces.join(', ')}` : ''}`;
          }),
          '',
        ]
      : []),
    '## Not gathered (checked as empty)',
    '',
    ...(f.gaps.length ? f.gaps.map((g) => `- ${g}`) : ['- nothing']),
    '',
    '## Faults as they ran',
    '',
    '| at | kind | for | note |',
    '|---|---|---|---|',
    ...f.faults.map(
      (r) =>
        `| ${r.startSec.toFixed(1)} s | ${r.spec.kind}${r.spec.worker ? ` ${r.spec.worker}` : ''} | ${(r.endSec - r.startSec).toFixed(1)} s | ${r.note ?? ''} |`,
    ),
    '',
    '![timeline](soak-timeline.svg)',
    '',
  ];
  return lines.join('\n');
}

/** The summary's lines on the refreshes: how many were sent and taken, and how long each upload waited. */
export function refreshSummary(uploads: readonly UploadSpec[], refreshes: readonly RefreshRecord[]): string[] {
  const expiring = uploads.filter((u) => u.source === 'url-expiring');
  if (expiring.length === 0) return ['No upload had an expiring URL.'];
  const accepted = refreshes.filter((r) => r.code === 202);
  const others = new Map<string, number>();
  for (const r of refreshes) {
    if (r.code === 202) continue;
    const k = `${r.code}${r.errorType ? ` ${r.errorType}` : ''}`;
    others.set(k, (others.get(k) ?? 0) + 1);
  }
  const waits = accepted.flatMap((r) => (r.waitedSec === undefined ? [] : [r.waitedSec]));
  const resumes = accepted.flatMap((r) => (r.resumedSec === undefined ? [] : [r.resumedSec]));
  const lines = [
    `${expiring.length} uploads had an expiring URL (issued expired at submission); the operator sent ${refreshes.length} refreshes, ${accepted.length} taken (202)${
      others.size ? `, the others answered ${[...others].map(([k, n]) => `${k} ×${n}`).join(', ')}` : ''
    }.`,
    `Waited for the refresh (the source's 403 to the new URL sent): p50 ${fmt(percentile(waits, 50))}, max ${fmt(waits.length ? Math.max(...waits) : undefined)}; resumed (the new URL sent to its first download): p50 ${fmt(percentile(resumes, 50))}, max ${fmt(resumes.length ? Math.max(...resumes) : undefined)}.`,
    '',
    '| upload | refreshes taken | waited | resumed after |',
    '|---|---|---|---|',
    ...expiring.map((u) => {
      const mine = accepted.filter((r) => r.videoId === u.id);
      const col = (xs: (number | undefined)[]) => xs.map(fmt).join(', ') || '–';
      return `| ${u.id} | ${mine.length} | ${col(mine.map((r) => r.waitedSec))} | ${col(mine.map((r) => r.resumedSec))} |`;
    }),
  ];
  return lines;
}

const FAULT_COLOURS = ['#d62728', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#1f77b4'];

/** In-flight uploads over time (a step line) above one lane per fault kind (a bar per fault). */
export function renderTimeline(f: Pick<RunFacts, 'spans' | 'faults' | 'wallSec' | 'plan'>): string {
  const W = 900;
  const left = 150;
  const plotW = W - left - 20;
  const end = Math.max(1, ...f.spans.map((s) => s.toSec), ...f.faults.map((r) => r.endSec));
  const x = (t: number) => left + (t / end) * plotW;
  const kinds = [...new Set(f.faults.map((r) => r.spec.kind))].sort();
  const chartH = 160;
  const laneH = 18;
  const H = 40 + chartH + 30 + kinds.length * laneH + 30;

  // In flight: +1 at submission, −1 at the end, sampled at every change.
  const events = f.spans.flatMap((s) => [
    { t: s.fromSec, d: 1 },
    { t: s.toSec, d: -1 },
  ]);
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  let n = 0;
  let maxN = 1;
  const steps: [number, number][] = [[0, 0]];
  for (const e of events) {
    n += e.d;
    maxN = Math.max(maxN, n);
    steps.push([e.t, n]);
  }
  const y = (v: number) => 40 + chartH - (v / maxN) * chartH;
  let d = `M ${x(0).toFixed(1)} ${y(0).toFixed(1)}`;
  let prev = 0;
  for (const [t, v] of steps) {
    d += ` L ${x(t).toFixed(1)} ${y(prev).toFixed(1)} L ${x(t).toFixed(1)} ${y(v).toFixed(1)}`;
    prev = v;
  }
  d += ` L ${x(end).toFixed(1)} ${y(prev).toFixed(1)}`;

  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="20" font-size="13">soak seed ${f.plan.seed}: uploads in flight (max ${maxN}) and faults, over ${end.toFixed(0)} s</text>`,
    `<line x1="${left}" y1="${y(0)}" x2="${x(end)}" y2="${y(0)}" stroke="#999"/>`,
    `<line x1="${left}" y1="${y(maxN)}" x2="${left}" y2="${y(0)}" stroke="#999"/>`,
    `<text x="${left - 6}" y="${y(maxN) + 4}" text-anchor="end">${maxN}</text>`,
    `<text x="${left - 6}" y="${y(0)}" text-anchor="end">0</text>`,
    `<text x="10" y="${y(maxN / 2)}">in flight</text>`,
    `<path d="${d}" fill="none" stroke="#2ca02c" stroke-width="1.5"/>`,
  ];
  for (let t = 0; t <= end; t += Math.max(10, Math.ceil(end / 10 / 10) * 10)) {
    out.push(`<text x="${x(t).toFixed(1)}" y="${y(0) + 14}" text-anchor="middle" fill="#666">${t}s</text>`);
  }
  const lane0 = 40 + chartH + 30;
  kinds.forEach((k, i) => {
    const ly = lane0 + i * laneH;
    out.push(`<text x="${left - 6}" y="${ly + 12}" text-anchor="end">${esc(k)}</text>`);
    for (const r of f.faults.filter((q) => q.spec.kind === k)) {
      const w = Math.max(2, x(r.endSec) - x(r.startSec));
      const fill = r.injected ? FAULT_COLOURS[i % FAULT_COLOURS.length] : 'none';
      out.push(
        `<rect x="${x(r.startSec).toFixed(1)}" y="${ly + 2}" width="${w.toFixed(1)}" height="${laneH - 4}" fill="${fill}" stroke="${FAULT_COLOURS[i % FAULT_COLOURS.length]}"><title>${esc(r.note ?? k)}</title></rect>`,
      );
    }
  });
  out.push(`<text x="${left}" y="${H - 8}" fill="#666">hollow bars: scheduled but not injected</text>`, '</svg>');
  return out.join('\n');
}
