/**
 * The soak's seeded schedule: which uploads arrive when, and which faults strike when. One seed
 * gives one schedule, byte for byte, so a run that found a violation is replayed by its seed.
 * Pure: no clock, no Math.random, no I/O.
 */

/** The seeded PRNG of the test data (mulberry32): its whole state is one integer, the seed. */
export { seededRandom } from '../../test/support/synthetic-vectors';
import { seededRandom } from '../../test/support/synthetic-vectors';

/** What a generated input is, so the checker knows the one outcome that is right for it. */
export type MediaShape = 'plain' | 'vfr' | 'rotated' | 'interlaced' | 'no-audio' | 'odd-size';
export type PoisonKind = 'truncated' | 'not-a-video' | 'audio-only' | 'empty';
export type SourceKind = 'file' | 'url' | 'url-slow' | 'url-expiring' | 'resumable';

export interface UploadSpec {
  id: string;
  /** Seconds after the soak starts. */
  atSec: number;
  source: SourceKind;
  /** A valid video … */
  media:
    | { kind: 'valid'; durationSec: number; height: 720 | 1080 | 2160; shape: MediaShape }
    /** … or a file the pipeline must refuse, with the typed reason it must give. */
    | { kind: 'poison'; poison: PoisonKind; expectedError: string };
}

export const FAULT_KINDS = [
  'kill-worker',
  'stop-ffmpeg',
  'rolling-restart',
  'kill-temporal',
  'restart-postgres',
  'restart-minio',
  'cut-worker-network',
  'ai-storm',
  'ai-outage',
  'ai-hang',
  'ai-insufficient-quota',
  'ai-malformed',
  'ai-no-transcription',
  'vector-store-failure',
  'scratch-disk-full',
  'operator-delete',
  'operator-replay',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const WORKER_KINDS = ['pipeline', 'media', 'ai', 'indexer'] as const;

export interface FaultSpec {
  kind: FaultKind;
  atSec: number;
  /** How long the fault lasts (0: instantaneous, e.g. kill -9 then restart at once). */
  forSec: number;
  /** The worker kind it hits, where it hits one. */
  worker?: (typeof WORKER_KINDS)[number];
  /** The upload it targets (operator delete/replay). */
  uploadId?: string;
}

export interface SoakPlan {
  seed: number;
  durationSec: number;
  uploads: UploadSpec[];
  faults: FaultSpec[];
}

/** The typed reason each poison must end with (src/errors.ts names). */
export const POISON_ERRORS: Record<PoisonKind, string> = {
  truncated: 'TruncatedMedia',
  'not-a-video': 'NotAVideo',
  'audio-only': 'NoVideoStream',
  empty: 'InvalidMedia',
};

const SHAPES: readonly MediaShape[] = ['plain', 'plain', 'vfr', 'rotated', 'interlaced', 'no-audio', 'odd-size'];
const HEIGHTS = [720, 720, 1080, 1080, 2160] as const;
const SOURCES: readonly SourceKind[] = ['file', 'file', 'url', 'url-slow', 'url-expiring', 'resumable'];
const POISONS: readonly PoisonKind[] = ['truncated', 'not-a-video', 'audio-only', 'empty'];
/** Share of uploads that are poison. */
export const POISON_SHARE = 0.1;
export const MIN_CLIP_SEC = 2;
export const MAX_CLIP_SEC = 600;

export interface PlanOptions {
  seed: number;
  uploads: number;
  faults: number;
  durationSec: number;
  /** Longest valid clip (the CI variant keeps clips short). */
  maxClipSec?: number;
  /** Largest frame height (the CI variant stays at 720p). */
  maxHeight?: 720 | 1080 | 2160;
}

/**
 * A schedule: uploads spread over the first 80 % of the run (the rest lets the last ones finish),
 * durations log-uniform between 2 s and the cap (most clips short, a few long), faults spread
 * over the same window, each kind at most as often as the others allow (round-robin over a
 * seeded shuffle, so F faults cover min(F, kinds) distinct kinds).
 */
export function planSoak(o: PlanOptions): SoakPlan {
  if (!Number.isInteger(o.seed)) throw new Error(`seed must be an integer, got ${o.seed}`);
  if (o.uploads < 0 || o.faults < 0 || o.durationSec <= 0) throw new Error('uploads and faults must be ≥ 0 and the duration > 0');
  const rnd = seededRandom(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const window = o.durationSec * 0.8;
  const maxClip = Math.max(MIN_CLIP_SEC, Math.min(MAX_CLIP_SEC, o.maxClipSec ?? MAX_CLIP_SEC));
  const heights = HEIGHTS.filter((h) => h <= (o.maxHeight ?? 2160));

  const uploads: UploadSpec[] = [];
  for (let i = 0; i < o.uploads; i++) {
    const id = `soak-${o.seed}-${String(i).padStart(4, '0')}`;
    const atSec = round1(rnd() * window);
    const source = pick(SOURCES);
    if (rnd() < POISON_SHARE) {
      const poison = pick(POISONS);
      uploads.push({ id, atSec, source, media: { kind: 'poison', poison, expectedError: POISON_ERRORS[poison] } });
    } else {
      const durationSec = round1(Math.exp(Math.log(MIN_CLIP_SEC) + rnd() * (Math.log(maxClip) - Math.log(MIN_CLIP_SEC))));
      uploads.push({ id, atSec, source, media: { kind: 'valid', durationSec, height: pick(heights), shape: pick(SHAPES) } });
    }
  }
  uploads.sort((a, b) => a.atSec - b.atSec || a.id.localeCompare(b.id));

  const kinds = shuffle([...FAULT_KINDS], rnd);
  const faults: FaultSpec[] = [];
  for (let i = 0; i < o.faults; i++) {
    const kind = kinds[i % kinds.length]!;
    const fault: FaultSpec = { kind, atSec: round1(rnd() * window), forSec: faultLength(kind, rnd) };
    if (kind === 'kill-worker' || kind === 'rolling-restart' || kind === 'cut-worker-network') fault.worker = pick(WORKER_KINDS);
    if ((kind === 'operator-delete' || kind === 'operator-replay') && uploads.length > 0) fault.uploadId = pick(uploads).id;
    faults.push(fault);
  }
  faults.sort((a, b) => a.atSec - b.atSec || a.kind.localeCompare(b.kind));
  return { seed: o.seed, durationSec: o.durationSec, uploads, faults };
}

function faultLength(kind: FaultKind, rnd: () => number): number {
  switch (kind) {
    case 'kill-worker':
    case 'kill-temporal':
    case 'operator-delete':
    case 'operator-replay':
      return 0;
    case 'ai-hang':
    case 'ai-outage':
    case 'restart-postgres':
    case 'restart-minio':
      return round1(5 + rnd() * 25);
    default:
      return round1(2 + rnd() * 13);
  }
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The schedule as a person reads it at the start of a run (and pastes into a bug report). */
export function renderSchedule(plan: SoakPlan): string {
  const lines = [
    `soak seed ${plan.seed}: ${plan.uploads.length} uploads, ${plan.faults.length} faults, ${plan.durationSec} s`,
    `replay: npm run soak -- --seed ${plan.seed} --uploads ${plan.uploads.length} --faults ${plan.faults.length} --duration ${plan.durationSec}`,
  ];
  const events = [
    ...plan.uploads.map((u) => ({
      at: u.atSec,
      text:
        u.media.kind === 'valid'
          ? `upload ${u.id} ${u.media.durationSec}s ${u.media.height}p ${u.media.shape} via ${u.source}`
          : `upload ${u.id} POISON ${u.media.poison} (expect ${u.media.expectedError}) via ${u.source}`,
    })),
    ...plan.faults.map((f) => ({
      at: f.atSec,
      text: `fault  ${f.kind}${f.worker ? ` ${f.worker}` : ''}${f.uploadId ? ` ${f.uploadId}` : ''}${f.forSec ? ` for ${f.forSec}s` : ''}`,
    })),
  ].sort((a, b) => a.at - b.at || a.text.localeCompare(b.text));
  for (const e of events) lines.push(`${e.at.toFixed(1).padStart(7)}s  ${e.text}`);
  return lines.join('\n');
}
