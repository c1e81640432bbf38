/**
 * The soak's invariant checker: given what the run planned and what the system holds at the end,
 * the violations, each naming its invariant. Pure, so it is tested on made-up bad states (a
 * checker that cannot fail proves nothing). The soak gathers the snapshot from PostgreSQL, the
 * vector store, the fault server's request log, /proc, the scratch dirs and the object store.
 */
import type { UploadSpec } from './schedule';

export const INVARIANTS = {
  ended: 'every upload ended (ready, or dead-lettered with a typed reason)',
  validNotDeadLettered: 'no valid input dead-lettered',
  poisonReason: "a poison input's typed reason matches its class",
  oneRow: 'exactly one row per ready video, none for deleted or failed ones',
  vectorPoints: 'exactly the expected vector points per ready video, none for deleted or failed ones',
  billing: 'the ledger per video equals what the provider billed, and no paid request repeats beyond the repair bound',
  sourceRefreshed: 'every upload whose source URL expired waited for a new one and went on with it',
  noOrphanProcess: 'no ffmpeg left running',
  noScratch: 'no scratch or temp file left',
  noMultipart: 'no multipart upload left open',
  noObjectsOfDeleted: 'no object left for a deleted video',
  mediaVerified: 'every ready video has an HLS ladder and an MP4 that ffprobe accepts against its source',
  statusTruthful: 'no status answer during a fault was false',
  replay: 'every workflow history replays against the current workflow code',
} as const;
export type InvariantName = keyof typeof INVARIANTS;

export interface Violation {
  invariant: InvariantName;
  videoId?: string;
  detail: string;
}

/** How an upload ended, as the API and the dead-letter table say. */
export interface Outcome {
  status: 'ready' | 'failed' | 'deleted' | 'running' | 'missing';
  /** For ready videos: complete, or delayed with its reason (AI outage, quota …). */
  analysis?: 'complete' | 'delayed' | 'pending';
  analysisReason?: string;
  /** For failed videos: the dead letter's typed reason. */
  errorType?: string;
  /** For failed videos: the step and message, so a violation says where to look. */
  errorDetail?: string;
}

/** One status answer the soak sampled while faults were on, and what turned out to be true. */
export interface StatusSample {
  videoId: string;
  atSec: number;
  said: string;
  /** How the video ended. */
  ended: Outcome['status'];
}

export interface Snapshot {
  uploads: UploadSpec[];
  /** Uploads the simulated operator deleted on purpose. */
  deletedByOperator: Set<string>;
  outcomes: Map<string, Outcome>;
  /** Rows in `videos` per id (deleted rows excluded). */
  rows: Map<string, number>;
  /** Vector points per video id, over every collection. */
  points: Map<string, number>;
  /** Points a ready video must have (1, plus one per indexed moment where moments are indexed). */
  expectedPoints: (videoId: string) => number;
  /** Ledger totals per video (cost units) and what the fault server's log billed for it. */
  ledger: Map<string, number>;
  billed: Map<string, number>;
  /** Paid requests sent more than once (same video, same request key) and how often. */
  repeatedPaid: { videoId: string; key: string; count: number }[];
  /** Billed requests whose body names one upload while the ledger charges them to another. */
  misattributedPaid: { requestId: string; named: string; charged: string }[];
  /** How often a paid request may be sent again by the bounded repair (e.g. one repair prompt). */
  repairBound: number;
  /**
   * Per `url-expiring` upload that was submitted: how often the source server refused its URL
   * as expired, how many new URLs the run took (POST /refresh-url answered 202), and how often a
   * new URL was then served.
   */
  expiringSources: Map<string, { expiredAnswers: number; refreshesAccepted: number; served: number }>;
  ffmpegPids: number[];
  scratchFiles: string[];
  openMultipart: string[];
  objectsOfDeleted: Map<string, string[]>;
  /** ffprobe verdicts per ready video. */
  media: Map<string, { ok: boolean; detail?: string }>;
  statusSamples: StatusSample[];
  replay: { workflowId: string; ok: boolean; error?: string }[];
}

/** Money is compared in integer micro-units: float sums of the same charges differ in the last bit. */
const micros = (x: number): number => Math.round(x * 1e6);

export function checkInvariants(s: Snapshot): Violation[] {
  const out: Violation[] = [];
  const add = (invariant: InvariantName, detail: string, videoId?: string) =>
    out.push({ invariant, detail, ...(videoId ? { videoId } : {}) });

  for (const u of s.uploads) {
    const o = s.outcomes.get(u.id) ?? { status: 'missing' as const };
    const deleted = s.deletedByOperator.has(u.id);
    if (deleted) {
      if (o.status !== 'deleted' && o.status !== 'missing') add('ended', `deleted by the operator but ${o.status}`, u.id);
    } else if (o.status === 'running' || o.status === 'missing' || o.status === 'deleted') {
      add('ended', `ended ${o.status}`, u.id);
    } else if (u.media.kind === 'valid') {
      if (o.status === 'failed')
        add(
          'validNotDeadLettered',
          `valid ${u.media.shape} ${u.media.height}p input failed: ${o.errorType ?? 'no reason'}${o.errorDetail ? ` (${o.errorDetail})` : ''}`,
          u.id,
        );
      else if (o.analysis === 'pending') add('ended', 'ready with its analysis still pending', u.id);
      else if (o.analysis === 'delayed' && !o.analysisReason) add('ended', 'analysis delayed without a reason', u.id);
    } else if (o.status === 'ready') {
      add('poisonReason', `poison ${u.media.poison} went ready (expected ${u.media.expectedError})`, u.id);
    } else if (o.errorType !== u.media.expectedError) {
      add('poisonReason', `poison ${u.media.poison} failed with ${o.errorType ?? 'no reason'}, expected ${u.media.expectedError}`, u.id);
    }

    if (u.source === 'url-expiring' && !deleted && (o.status === 'ready' || o.status === 'failed')) {
      const e = s.expiringSources.get(u.id);
      // A submission refused at the door has no entry: its URL was never fetched.
      if (e && e.expiredAnswers === 0) add('sourceRefreshed', 'its URL was never refused as expired (the refresh was not exercised)', u.id);
      else if (e && e.refreshesAccepted === 0)
        add('sourceRefreshed', `its URL expired but the run took no new one (ended ${o.status})`, u.id);
      else if (e && e.served === 0) add('sourceRefreshed', 'a new URL was taken but never fetched', u.id);
    }

    const ready = !deleted && o.status === 'ready';
    const rows = s.rows.get(u.id) ?? 0;
    if (ready ? rows !== 1 : rows !== 0) add('oneRow', `${rows} rows for a ${deleted ? 'deleted' : o.status} video`, u.id);
    const points = s.points.get(u.id) ?? 0;
    const want = ready ? s.expectedPoints(u.id) : 0;
    if (points !== want) add('vectorPoints', `${points} points, expected ${want}`, u.id);
    if (ready) {
      const m = s.media.get(u.id);
      if (!m?.ok) add('mediaVerified', m?.detail ?? 'never verified', u.id);
    }
  }

  for (const id of new Set([...s.ledger.keys(), ...s.billed.keys()])) {
    const charged = s.ledger.get(id) ?? 0;
    const billed = s.billed.get(id) ?? 0;
    if (micros(charged) !== micros(billed)) add('billing', `ledger ${charged} ≠ billed ${billed}`, id);
  }
  for (const m of s.misattributedPaid)
    add('billing', `billed request ${m.requestId} names ${m.named} in its body but the ledger charges it to ${m.charged}`, m.charged);
  for (const r of s.repeatedPaid) {
    if (r.count > 1 + s.repairBound) add('billing', `paid request ${r.key} sent ${r.count} times (bound ${1 + s.repairBound})`, r.videoId);
  }

  for (const pid of s.ffmpegPids) add('noOrphanProcess', `ffmpeg pid ${pid} still running`);
  for (const f of s.scratchFiles) add('noScratch', f);
  for (const m of s.openMultipart) add('noMultipart', m);
  for (const [id, keys] of s.objectsOfDeleted)
    if (keys.length > 0) add('noObjectsOfDeleted', `${keys.length} objects, e.g. ${keys[0]}`, id);

  for (const x of s.statusSamples) {
    const lie = falseStatus(x);
    if (lie) add('statusTruthful', `at ${x.atSec}s said "${x.said}": ${lie}`, x.videoId);
  }
  for (const r of s.replay) if (!r.ok) add('replay', `${r.workflowId}: ${r.error ?? 'nondeterminism'}`);
  return out;
}

/**
 * A status answer is false when it claims an ending that did not happen: "ready" for a video
 * that failed, "failed" for one that went ready (a retryable fault is not a failure), or "not
 * found" for one that exists and was never deleted. "Running" is never false during a run.
 */
export function falseStatus(x: StatusSample): string | undefined {
  if (x.said === 'ready' && x.ended === 'failed') return 'it failed';
  if (x.said === 'failed' && x.ended === 'ready') return 'it went ready';
  if (x.said === 'not-found' && (x.ended === 'ready' || x.ended === 'failed')) return `it exists (${x.ended})`;
  return undefined;
}

/** The exit line: the seed and the first violation, or a pass. */
export function verdict(seed: number, violations: Violation[]): { ok: boolean; line: string } {
  const first = violations[0];
  if (!first) return { ok: true, line: `soak seed ${seed}: every invariant held` };
  const who = first.videoId ? ` (${first.videoId})` : '';
  return {
    ok: false,
    line: `soak seed ${seed}: ${violations.length} violation(s); first: ${INVARIANTS[first.invariant]}${who}: ${first.detail}`,
  };
}
