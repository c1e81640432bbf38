import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { delayedSummary } from '../../src/activities/ai/degraded';
import { retryDecision } from '../../src/activities/ai';
import { ErrorType, failure } from '../../src/errors';

// Issue 25: "the provider cannot do this" degrades instead of dead-lettering, and the stand-in
// summary names the real cause.
const resilience = { backoff: { baseMs: 1_000, capMs: 10_000 }, degradeAfterMs: 60_000, reanalyzeDelaysMs: [60_000] };

async function decide(err: unknown, degradable = true): Promise<ApplicationFailure> {
  // retryDecision reads the attempt and schedule time from the activity context.
  const out = await new MockActivityEnvironment().run(async () => retryDecision(err, degradable, resilience));
  expect(out).toBeInstanceOf(ApplicationFailure);
  return out as ApplicationFailure;
}

describe('retryDecision for providers that cannot do the analysis', () => {
  it.each([ErrorType.AiUnsupported, ErrorType.AiBadAnswer, ErrorType.AiQuotaExhausted, ErrorType.AnalysisInputsMissing])(
    'defers a degradable analysis failing with %s, keeping the cause',
    async (type) => {
      const out = await decide(failure(type, 'nope'));
      expect(out.type).toBe(ErrorType.AiDeferred);
      expect(out.nonRetryable).toBe(true);
      expect(out.details?.[0]).toMatchObject({ cause: type });
    },
  );

  it('keeps credentials and content refusals as they are (terminal for this video)', async () => {
    expect((await decide(failure(ErrorType.AiRejected, 'bad key'))).type).toBe(ErrorType.AiRejected);
    expect((await decide(failure(ErrorType.AiContentRejected, 'policy'))).type).toBe(ErrorType.AiContentRejected);
  });

  it('does not defer when the analysis is not degradable', async () => {
    expect((await decide(failure(ErrorType.AiUnsupported, 'no route'), false)).type).toBe(ErrorType.AiUnsupported);
  });
});

describe('the stand-in summary names the cause', () => {
  it.each([
    [ErrorType.AiQuotaExhausted, /out of credit \(billing or quota\)/],
    [ErrorType.AiRateLimited, /rate limiting/],
    [ErrorType.AiUnavailable, /unavailable \(outage or timeouts\)/],
    [ErrorType.AiUnsupported, /does not support this analysis/],
    [ErrorType.AiBadAnswer, /answers were not usable/],
    [ErrorType.AnalysisInputsMissing, /keyframes and audio cut for the analysis were no longer available/],
  ])('%s', (cause, words) => {
    const s = delayedSummary('A 12 s video.', cause);
    expect(s).toMatch(/^Analysis delayed: /);
    expect(s).toMatch(words);
    expect(s).toMatch(/A 12 s video\.$/);
  });

  it('says "refused" for a content refusal and stays generic when the cause is unknown', () => {
    expect(delayedSummary('x', ErrorType.AiContentRejected)).toMatch(/^AI analysis refused by the provider \(content policy\)/);
    expect(delayedSummary('x', undefined)).toMatch(/^Analysis delayed: the AI service is unavailable, /);
  });
});
