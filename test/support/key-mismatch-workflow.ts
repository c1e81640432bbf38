import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';

/**
 * Test-only: hands a URL (so the payload codec encrypts it) to an activity on another queue, whose
 * worker may hold another payload key, and returns how that one attempt failed.
 */
export async function keyMismatchProbe(input: { activityQueue: string; url: string }): Promise<{ type?: string; message: string } | 'ok'> {
  const { echoUrl } = proxyActivities<{ echoUrl(url: string): Promise<string> }>({
    taskQueue: input.activityQueue,
    startToCloseTimeout: '20s',
    retry: { maximumAttempts: 1 },
  });
  try {
    await echoUrl(input.url);
    return 'ok';
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
    return { message: String(cause) };
  }
}
