/**
 * The soak's command line: what to run (seed, uploads, faults, duration) and how big the media
 * is. Pure, so the CI variant's fixed numbers are in one place.
 */

export interface SoakOptions {
  seed: number;
  uploads: number;
  faults: number;
  /** Seconds over which uploads and faults are scheduled (the schedule's own length). */
  durationSec: number;
  /** Hard cap on the whole run's wall time, stack start to cleanup included. */
  capSec: number;
  /** Generate the planned 2 s–10 min clips at their planned heights (default: scaled down). */
  realMedia: boolean;
  /** Where the summary, the timeline and the log go. */
  outDir: string;
  /** The deliberately broken build (the deletion saga keeps the vector points): the checker must catch it. */
  brokenBuild: boolean;
  ci: boolean;
}

export const HELP = `npm run soak -- [--seed N] [--uploads M] [--faults F] [--duration T] [--cap C] [--real-media] [--out DIR] [--broken-build] [--ci]

A seeded chaos soak on a stack of its own (loopback only): Temporal dev server (on disk, so it can be
killed and restarted), a PostgreSQL server of its own (stopped and started by a fault), one process
per worker kind, the in-process API, the OpenAI-compatible fault server. Prints the schedule and its
replay command first; at the end gathers what the system holds, checks every invariant
(bench/soak/invariants.ts) and exits non-zero with the seed and the first violation.

  --seed N        schedule seed (default 1)
  --uploads M     uploads (default 20)
  --faults F      faults (default 8)
  --duration T    seconds over which uploads and faults are scheduled (default 120)
  --cap C         hard cap on the whole run, seconds (default 2×T + 120); past it the soak stops
                  waiting, checks what it has (unfinished uploads are violations) and cleans up
  --real-media    the planned mix as planned: 2 s–10 min clips at 720p/1080p/4K. WITHOUT it
                  (the default) clips are scaled down to keep a run small on two cores: durations
                  mapped log-wise onto 2–8 s, frames at 1/6 of the planned height (720p → 120p)
  --out DIR       where soak-summary.md, soak-timeline.svg and soak-log.json go (default soak-out/)
  --broken-build  run the workers as a deliberately broken build (BIBLIO_TEST_BROKEN_BUILD=keep-points-of-deleted:
                  the deletion saga leaves the vector points): a video deleted after it was indexed
                  must fail the soak with the vector-points invariant named
  --ci            the short fixed-seed variant: seed 829, 20 uploads, 8 faults, 100 s, cap 300 s`;

/**
 * Seed 829: of the seeds whose 8 faults are all injectable here, one that hits every process
 * fault (kill -9 of the media worker mid-run, SIGSTOP of ffmpeg, rolling restart, kill -9 of the
 * Temporal server) beside an operator delete and three AI faults (outage, malformed, storm).
 */
export const CI: Pick<SoakOptions, 'seed' | 'uploads' | 'faults' | 'durationSec' | 'capSec'> = {
  seed: 829,
  uploads: 20,
  faults: 8,
  durationSec: 100,
  capSec: 300,
};

const NUMERIC: Record<string, 'seed' | 'uploads' | 'faults' | 'durationSec' | 'capSec'> = {
  '--seed': 'seed',
  '--uploads': 'uploads',
  '--faults': 'faults',
  '--duration': 'durationSec',
  '--cap': 'capSec',
};

export function parseOptions(argv: string[]): SoakOptions | 'help' {
  const o: SoakOptions = {
    seed: 1,
    uploads: 20,
    faults: 8,
    durationSec: 120,
    capSec: 0,
    realMedia: false,
    outDir: 'soak-out',
    brokenBuild: false,
    ci: false,
  };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n)) throw new Error(`${flag} needs a number, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const numeric = NUMERIC[a];
    if (numeric) {
      o[numeric] = num(a, argv[++i]);
      continue;
    }
    switch (a) {
      case '--help':
      case '-h':
        return 'help';
      case '--out':
        o.outDir = argv[++i] ?? o.outDir;
        break;
      case '--real-media':
        o.realMedia = true;
        break;
      case '--broken-build':
        o.brokenBuild = true;
        break;
      case '--ci':
        Object.assign(o, CI, { ci: true });
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  if (!o.capSec) o.capSec = 2 * o.durationSec + 120;
  return o;
}

/** The scaled-down clip of a planned one (see --real-media in HELP). */
export function scaledClip(planned: { durationSec: number; height: number }, real: boolean): { durationSec: number; height: number } {
  if (real) return planned;
  // 2 s … 600 s log-wise onto 2 s … 8 s: the mix keeps its shape (mostly short, a few longer).
  const t = Math.log(planned.durationSec / 2) / Math.log(300);
  const durationSec = Math.round((2 + 6 * Math.min(1, Math.max(0, t))) * 10) / 10;
  return { durationSec, height: Math.max(120, Math.round(planned.height / 6 / 2) * 2) };
}
