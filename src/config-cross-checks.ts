/**
 * Rules between environment variables, checked once at start-up (src/config.ts runs them in the
 * schema's superRefine). Each guards a combination that passes every per-variable check and then
 * fails mid-run with an error that blames the wrong thing: a segment length HLS refuses
 * (InvalidMedia, blaming the user's file), a refresh deadline past the run's TTL (the run times
 * out instead of dead-lettering), a provider deadline longer than its activity attempt, and so on.
 */
import { MAX_REANALYSES } from './workflows/decisions';
import { HLS_SEGMENT_SEC_RANGE } from './media/hls-ladder';
import { AI_ATTEMPT_TIMEOUT_MS } from './pipeline/retry-presets';

/** What the rules read: the parsed (typed, defaulted) values. */
export interface CrossCheckedEnv {
  MEDIA_SEGMENT_SEC: number;
  SOURCE_REFRESH_DEADLINE_MS: number;
  WORKFLOW_EXECUTION_TIMEOUT_MS: number;
  OPENAI_TIMEOUT_MS: number;
  AI_TRANSCRIBE_TIMEOUT_MS: number;
  AI_LIMITER_MAX_WAIT_MS: number;
  AI_RETRY_BASE_MS: number;
  AI_RETRY_MAX_MS: number;
  AI_DEGRADE_AFTER_MS: number;
  AI_BREAKER_HALF_OPEN_MS: number;
  AI_REANALYZE_DELAYS_MS: string;
}

export interface CrossCheckProblem {
  /** The variable to change (the message names the other one). */
  variable: keyof CrossCheckedEnv;
  message: string;
}

const h = (ms: number) => `${+(ms / 3_600_000).toFixed(2)} h`;
const s = (ms: number) => `${+(ms / 1000).toFixed(1)} s`;

export function crossCheckProblems(e: CrossCheckedEnv): CrossCheckProblem[] {
  const problems: CrossCheckProblem[] = [];
  const { min, max } = HLS_SEGMENT_SEC_RANGE;
  if (e.MEDIA_SEGMENT_SEC < min || e.MEDIA_SEGMENT_SEC > max) {
    problems.push({
      variable: 'MEDIA_SEGMENT_SEC',
      message: `${e.MEDIA_SEGMENT_SEC} s is outside what HLS packaging accepts (${min}–${max} s); the HLS step would refuse every video. Set MEDIA_SEGMENT_SEC between ${min} and ${max} (default 10).`,
    });
  }

  const ttl = e.WORKFLOW_EXECUTION_TIMEOUT_MS;
  if (ttl > 0 && e.SOURCE_REFRESH_DEADLINE_MS >= ttl) {
    problems.push({
      variable: 'SOURCE_REFRESH_DEADLINE_MS',
      message: `SOURCE_REFRESH_DEADLINE_MS (${h(e.SOURCE_REFRESH_DEADLINE_MS)}) must be shorter than WORKFLOW_EXECUTION_TIMEOUT_MS (${h(ttl)}): else a run whose URL expired times out instead of being dead-lettered.`,
    });
  }

  for (const v of ['OPENAI_TIMEOUT_MS', 'AI_TRANSCRIBE_TIMEOUT_MS', 'AI_LIMITER_MAX_WAIT_MS'] as const) {
    if (e[v] >= AI_ATTEMPT_TIMEOUT_MS) {
      problems.push({
        variable: v,
        message: `${v} (${s(e[v])}) must be shorter than an analysis attempt (${s(AI_ATTEMPT_TIMEOUT_MS)}, the analyze activity's start-to-close timeout): else the attempt times out before the call can fail with its typed error.`,
      });
    }
  }
  if (e.AI_RETRY_BASE_MS > e.AI_RETRY_MAX_MS) {
    problems.push({
      variable: 'AI_RETRY_BASE_MS',
      message: `AI_RETRY_BASE_MS (${s(e.AI_RETRY_BASE_MS)}) must not exceed AI_RETRY_MAX_MS (${s(e.AI_RETRY_MAX_MS)}), the cap of every retry delay.`,
    });
  }
  // A call the open breaker turns away retries after the rest of the half-open interval plus up to
  // one more (spread, breaker-analyzer.ts): up to twice the interval. An analysis whose wait must
  // end sooner gives up as delayed at the first refusal — even right after the provider came back.
  if (2 * e.AI_BREAKER_HALF_OPEN_MS >= e.AI_DEGRADE_AFTER_MS) {
    problems.push({
      variable: 'AI_BREAKER_HALF_OPEN_MS',
      message: `AI_BREAKER_HALF_OPEN_MS (${s(e.AI_BREAKER_HALF_OPEN_MS)}) must be under half of AI_DEGRADE_AFTER_MS (${s(e.AI_DEGRADE_AFTER_MS)}): a call the open breaker turns away waits up to twice the half-open interval, so every analysis would give up as delayed before the breaker lets a probe through.`,
    });
  }
  const delays = e.AI_REANALYZE_DELAYS_MS.split(',').length;
  if (delays > MAX_REANALYSES) {
    problems.push({
      variable: 'AI_REANALYZE_DELAYS_MS',
      message: `AI_REANALYZE_DELAYS_MS lists ${delays} timers; a run sets at most ${MAX_REANALYSES} (the rest would be ignored silently).`,
    });
  }
  return problems;
}
