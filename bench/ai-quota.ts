/**
 * Steady state under a real one-minute provider quota: Q requests/min at the fault server (429
 * past it), the same Q in the limiter, two AI worker processes (dist/workers/ai.js) sharing it
 * through Redis (or PostgreSQL with BENCH_STORE=postgres), and more demand than Q.
 *
 *   npm run build && npx tsx bench/ai-quota.ts            # ~4 minutes
 *   BENCH_Q=60 BENCH_ANALYSES=120 npx tsx bench/ai-quota.ts
 *
 * Prints utilisation (accepted / (Q × elapsed windows) over the full windows), the fill of each
 * full provider window, and the 429 count.
 */
import { runQuota } from '../test/support/ai-load';

async function main(): Promise<void> {
  const q = Number(process.env.BENCH_Q ?? 30);
  const analyses = Number(process.env.BENCH_ANALYSES ?? 60);
  const windowMs = Number(process.env.BENCH_WINDOW_MS ?? 60_000);
  const store = process.env.BENCH_STORE ?? 'redis';
  const r = await runQuota({
    requestsPerWindow: q,
    windowMs,
    aiWorkers: 2,
    analyses,
    ...(store === 'redis' ? { redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } : {}),
  });
  console.log(
    JSON.stringify({
      store,
      q,
      windowMs,
      aiWorkers: 2,
      elapsedSec: Math.round(r.elapsedMs / 1000),
      requests: r.requests,
      accepted: r.accepted,
      rejected429: r.rejected429,
      windowFill: r.windowFill,
      utilisation: Number(r.utilisation.toFixed(4)),
    }),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
