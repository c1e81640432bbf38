// The workflow of bench/retry-placement.ts: one activity that will be failed as lost, then three siblings queued behind it.
import { proxyActivities, sleep } from '@temporalio/workflow';

const { step } = proxyActivities<{ step(name: string): Promise<void> }>({
  startToCloseTimeout: '1m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

export async function retryPlacement(): Promise<void> {
  const lost = step('lost');
  await sleep(300);
  await Promise.all([lost, step('b'), step('c'), step('d')]);
}
