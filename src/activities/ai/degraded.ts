import { ErrorType } from '../../errors';

/** Why the analysis was deferred, in words people can act on: the real cause, not a generic "provider unavailable". */
const CAUSES: Record<string, string> = {
  [ErrorType.AiQuotaExhausted]: 'the AI account is out of credit (billing or quota)',
  [ErrorType.AiRateLimited]: 'the AI provider is rate limiting our requests',
  [ErrorType.AiUnavailable]: 'the AI service is unavailable (outage or timeouts)',
  [ErrorType.AiUnsupported]: 'the AI provider does not support this analysis (missing route or model)',
  [ErrorType.AiBadAnswer]: "the AI service's answers were not usable",
  [ErrorType.AnalysisInputsMissing]: 'the keyframes and audio cut for the analysis were no longer available',
};

/**
 * The words a stand-in analysis shows people: never mistaken for the real thing, and saying why.
 * `cause` is the typed failure behind the deferral (or AiContentRejected for a refusal); an
 * unknown or missing cause falls back to the generic wording.
 */
export function delayedSummary(offlineSummary: string, cause: string | undefined): string {
  if (cause === ErrorType.AiContentRejected) {
    return `AI analysis refused by the provider (content policy); indexed from metadata only. ${offlineSummary}`;
  }
  const why = (cause && CAUSES[cause]) ?? 'the AI service is unavailable';
  return `Analysis delayed: ${why}, so this video is indexed from its metadata for now and will be analysed automatically later. ${offlineSummary}`;
}
