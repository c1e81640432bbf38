import { proxyActivities } from '@temporalio/workflow';
import type { AiActivities } from '../../src/activities/ai';
import type { AnalyzeOutput, MediaFacts } from '../../src/workflows/contracts';

/** Load for the AI queue alone (no transcode): one analyze per run, retried by Temporal as in production. */
export async function aiLoad(input: { aiQueue: string; videoId: string; title: string; facts: MediaFacts }): Promise<AnalyzeOutput> {
  const { analyze } = proxyActivities<AiActivities>({
    taskQueue: input.aiQueue,
    startToCloseTimeout: '3m',
    heartbeatTimeout: '10s',
    retry: { initialInterval: '1s', maximumAttempts: 50, nonRetryableErrorTypes: ['AiRejected', 'AiQuotaExhausted', 'AiContentRejected'] },
  });
  return analyze({
    videoId: input.videoId,
    title: input.title,
    facts: input.facts,
    inputs: { keyframes: [], audioChunks: [], audio: 'none' },
  });
}
