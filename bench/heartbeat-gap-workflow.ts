// The one workflow of bench/heartbeat-gap.ts: a single long, heartbeating activity.
import { proxyActivities } from '@temporalio/workflow';

const { encodeWhileBeating } = proxyActivities<{ encodeWhileBeating(seconds: number): Promise<void> }>({
  startToCloseTimeout: '10m',
  // Long on purpose: the bench measures the gaps a shorter timeout would have to tolerate.
  heartbeatTimeout: '60s',
  retry: { maximumAttempts: 1 },
});

export async function heartbeatGap(seconds: number): Promise<void> {
  await encodeWhileBeating(seconds);
}
