/**
 * Rules between variables, checked once at start-up (the schema's superRefine in index.ts). Each
 * guards a combination that passes every per-variable check and then fails mid-run with an error
 * that blames the wrong thing: a segment length HLS refuses (InvalidMedia, blaming the user's
 * file), a refresh deadline past the run's TTL (the run times out instead of dead-lettering), a
 * provider deadline longer than its activity attempt, an upload cap above what the media step
 * takes (accepted uploads then fail as SourceTooLarge), and so on.
 *
 * No rule ties POLLER_STALE_AFTER_MS to the server's long-poll interval: that interval is the
 * Temporal server's dynamic configuration, which Biblio does not read; the variable's
 * description says to keep it above.
 */
import { MAX_REANALYSES } from '../workflows/decisions';
import { HLS_SEGMENT_SEC_RANGE } from '../media/hls-ladder';
import { AI_ATTEMPT_TIMEOUT_MS } from '../pipeline/retry-presets';
import type { Env } from './schema';

export interface CrossCheckProblem {
  /** The variable to change (the message names the other one). */
  variable: keyof Env;
  message: string;
}

export interface CrossRule {
  /** The rule in words, for the configuration document. */
  says: string;
  problems(e: Env): CrossCheckProblem[];
}

const h = (ms: number) => `${+(ms / 3_600_000).toFixed(2)} h`;
const s = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;
const { min: SEGMENT_MIN, max: SEGMENT_MAX } = HLS_SEGMENT_SEC_RANGE;
const AI_CALL_DEADLINES = ['OPENAI_TIMEOUT_MS', 'AI_TRANSCRIBE_TIMEOUT_MS', 'AI_LIMITER_MAX_WAIT_MS'] as const;
const S3_KEYS = ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] as const;

/** Secrets every host must share; without them each host generates its own in its data directory. */
const SHARED_SECRETS = [
  { variable: 'BIBLIO_PAYLOAD_KEY', needed: () => true, why: 'payloads one host encrypts the next host cannot decrypt' },
  { variable: 'BIBLIO_SOURCE_URL_KEY', needed: () => true, why: 'a source URL the API seals no media host can open' },
  {
    variable: 'STORAGE_SIGNING_SECRET',
    needed: (e: Env) => e.STORAGE_BACKEND === 'local',
    why: 'URLs one host signs the API host rejects',
  },
] as const;

export const CROSS_RULES: readonly CrossRule[] = [
  {
    says: "`BIBLIO_DEPLOYMENT=multi-host` needs the shared secrets configured: `BIBLIO_PAYLOAD_KEY`, `BIBLIO_SOURCE_URL_KEY` and, with `STORAGE_BACKEND=local`, `STORAGE_SIGNING_SECRET` — the same value on every host (a generated key lives in one host's data directory).",
    problems: (e) =>
      e.BIBLIO_DEPLOYMENT !== 'multi-host'
        ? []
        : SHARED_SECRETS.filter((s) => s.needed(e) && e[s.variable] === undefined).map((s) => ({
            variable: s.variable,
            message: `BIBLIO_DEPLOYMENT=multi-host needs ${s.variable} set to the same value on every host (e.g. \`openssl rand -base64 32\`): a generated one lives in this host's data directory, and ${s.why}.`,
          })),
  },
  {
    says: '`BIBLIO_DEPLOYMENT=multi-host` needs a vector store every host reaches: `QDRANT_URL`, or `VECTOR_LANCEDB_URI` (an `s3://` prefix, or a directory every host mounts).',
    problems: (e) =>
      e.BIBLIO_DEPLOYMENT === 'multi-host' && e.QDRANT_URL === undefined && e.VECTOR_LANCEDB_URI === undefined
        ? [
            {
              variable: 'VECTOR_LANCEDB_URI',
              message:
                "BIBLIO_DEPLOYMENT=multi-host needs VECTOR_LANCEDB_URI (e.g. s3://<bucket>/vectors) or QDRANT_URL: the default LanceDB directory is in this host's data directory, so other hosts would index into stores search never reads.",
            },
          ]
        : [],
  },
  {
    says: "`WORKER_LEASE_RENEW_MS` is at most half of `WORKER_LEASE_TTL_MS` (when that is not 0): else one late renewal lets a live worker's lease run out and its attempts are failed as lost.",
    problems: (e) =>
      e.WORKER_LEASE_TTL_MS > 0 && e.WORKER_LEASE_RENEW_MS * 2 > e.WORKER_LEASE_TTL_MS
        ? [
            {
              variable: 'WORKER_LEASE_RENEW_MS',
              message: `${e.WORKER_LEASE_RENEW_MS} ms is more than half of WORKER_LEASE_TTL_MS (${e.WORKER_LEASE_TTL_MS} ms): one late renewal would expire a live media worker's lease and fail its work as lost. Lower WORKER_LEASE_RENEW_MS or raise WORKER_LEASE_TTL_MS.`,
            },
          ]
        : [],
  },
  {
    says: `\`MEDIA_SEGMENT_SEC\` is within ${SEGMENT_MIN}–${SEGMENT_MAX} s, what HLS packaging accepts.`,
    problems: (e) =>
      e.MEDIA_SEGMENT_SEC < SEGMENT_MIN || e.MEDIA_SEGMENT_SEC > SEGMENT_MAX
        ? [
            {
              variable: 'MEDIA_SEGMENT_SEC',
              message: `${e.MEDIA_SEGMENT_SEC} s is outside what HLS packaging accepts (${SEGMENT_MIN}–${SEGMENT_MAX} s); the HLS step would refuse every video. Set MEDIA_SEGMENT_SEC between ${SEGMENT_MIN} and ${SEGMENT_MAX} (default 10).`,
            },
          ]
        : [],
  },
  {
    says: '`SOURCE_REFRESH_DEADLINE_MS` is shorter than `WORKFLOW_EXECUTION_TIMEOUT_MS` (when that is not 0): else a run whose URL expired times out instead of being dead-lettered.',
    problems: (e) => {
      const ttl = e.WORKFLOW_EXECUTION_TIMEOUT_MS;
      return ttl > 0 && e.SOURCE_REFRESH_DEADLINE_MS >= ttl
        ? [
            {
              variable: 'SOURCE_REFRESH_DEADLINE_MS',
              message: `SOURCE_REFRESH_DEADLINE_MS (${h(e.SOURCE_REFRESH_DEADLINE_MS)}) must be shorter than WORKFLOW_EXECUTION_TIMEOUT_MS (${h(ttl)}): else a run whose URL expired times out instead of being dead-lettered.`,
            },
          ]
        : [];
    },
  },
  {
    says: `\`OPENAI_TIMEOUT_MS\`, \`AI_TRANSCRIBE_TIMEOUT_MS\` and \`AI_LIMITER_MAX_WAIT_MS\` are each shorter than an analysis attempt (${s(AI_ATTEMPT_TIMEOUT_MS)}, the analyze activity's start-to-close timeout), so a call fails with its typed error before the attempt times out.`,
    problems: (e) =>
      AI_CALL_DEADLINES.filter((v) => e[v] >= AI_ATTEMPT_TIMEOUT_MS).map((v) => ({
        variable: v,
        message: `${v} (${s(e[v])}) must be shorter than an analysis attempt (${s(AI_ATTEMPT_TIMEOUT_MS)}, the analyze activity's start-to-close timeout): else the attempt times out before the call can fail with its typed error.`,
      })),
  },
  {
    says: '`AI_RETRY_BASE_MS` does not exceed `AI_RETRY_MAX_MS`, the cap of every retry delay.',
    problems: (e) =>
      e.AI_RETRY_BASE_MS > e.AI_RETRY_MAX_MS
        ? [
            {
              variable: 'AI_RETRY_BASE_MS',
              message: `AI_RETRY_BASE_MS (${s(e.AI_RETRY_BASE_MS)}) must not exceed AI_RETRY_MAX_MS (${s(e.AI_RETRY_MAX_MS)}), the cap of every retry delay.`,
            },
          ]
        : [],
  },
  // A call the open breaker turns away retries after the rest of the half-open interval plus up to
  // one more (spread, breaker-analyzer.ts): up to twice the interval. An analysis whose wait must
  // end sooner gives up as delayed at the first refusal — even right after the provider came back.
  {
    says: '`AI_BREAKER_HALF_OPEN_MS` is under half of `AI_DEGRADE_AFTER_MS`: a call the open breaker turns away waits up to twice the half-open interval.',
    problems: (e) =>
      2 * e.AI_BREAKER_HALF_OPEN_MS >= e.AI_DEGRADE_AFTER_MS
        ? [
            {
              variable: 'AI_BREAKER_HALF_OPEN_MS',
              message: `AI_BREAKER_HALF_OPEN_MS (${s(e.AI_BREAKER_HALF_OPEN_MS)}) must be under half of AI_DEGRADE_AFTER_MS (${s(e.AI_DEGRADE_AFTER_MS)}): a call the open breaker turns away waits up to twice the half-open interval, so every analysis would give up as delayed before the breaker lets a probe through.`,
            },
          ]
        : [],
  },
  {
    says: `\`AI_REANALYZE_DELAYS_MS\` lists at most ${MAX_REANALYSES} timers, the most a run sets.`,
    problems: (e) => {
      const delays = e.AI_REANALYZE_DELAYS_MS.split(',').length;
      return delays > MAX_REANALYSES
        ? [
            {
              variable: 'AI_REANALYZE_DELAYS_MS',
              message: `AI_REANALYZE_DELAYS_MS lists ${delays} timers; a run sets at most ${MAX_REANALYSES} (the rest would be ignored silently).`,
            },
          ]
        : [];
    },
  },
  {
    says: "`S3_ACCESS_KEY_ID` and `S3_SECRET_ACCESS_KEY` are set together or not at all (neither: the AWS SDK's default credential chain, e.g. an IAM role; no `S3_ENDPOINT`: AWS S3 itself).",
    problems: (e) => {
      if (e.STORAGE_BACKEND !== 's3') return [];
      const set = S3_KEYS.filter((v) => e[v] !== undefined);
      return set.length === 1
        ? [
            {
              variable: 'STORAGE_BACKEND',
              message: `s3 needs both ${S3_KEYS.join(' and ')} or neither; only ${set[0]} is set.`,
            },
          ]
        : [];
    },
  },
  {
    says: '`MAX_UPLOAD_BYTES` (when set) does not exceed `MAX_SOURCE_BYTES`: else uploads are accepted that the media step then refuses as SourceTooLarge.',
    problems: (e) =>
      e.MAX_UPLOAD_BYTES !== undefined && e.MAX_UPLOAD_BYTES > e.MAX_SOURCE_BYTES
        ? [
            {
              variable: 'MAX_UPLOAD_BYTES',
              message: `MAX_UPLOAD_BYTES (${e.MAX_UPLOAD_BYTES}) must not exceed MAX_SOURCE_BYTES (${e.MAX_SOURCE_BYTES}): else uploads are accepted that the media step then refuses as SourceTooLarge.`,
            },
          ]
        : [],
  },
  {
    says: '`MEDIA_STORYBOARD_MIN_INTERVAL_SEC` does not exceed `MEDIA_STORYBOARD_MAX_INTERVAL_SEC`.',
    problems: (e) =>
      e.MEDIA_STORYBOARD_MIN_INTERVAL_SEC > e.MEDIA_STORYBOARD_MAX_INTERVAL_SEC
        ? [
            {
              variable: 'MEDIA_STORYBOARD_MIN_INTERVAL_SEC',
              message: `MEDIA_STORYBOARD_MIN_INTERVAL_SEC (${e.MEDIA_STORYBOARD_MIN_INTERVAL_SEC}) must not exceed MEDIA_STORYBOARD_MAX_INTERVAL_SEC (${e.MEDIA_STORYBOARD_MAX_INTERVAL_SEC}).`,
            },
          ]
        : [],
  },
];

export function crossCheckProblems(e: Env): CrossCheckProblem[] {
  return CROSS_RULES.flatMap((rule) => rule.problems(e));
}
