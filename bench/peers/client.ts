// The load client, a process of its own so its CPU is measured apart from the engine's.
// Protocol with bench/peers.ts: warm up, print READY, wait for GO on stdin, run `count`
// pipelines with at most `concurrency` in flight, print RESULT <json>, wait to be stopped.
import { makeClient } from './clients';
import { exitWithParent, ready } from './lifecycle';
import { expected } from './pipeline';

export interface ClientConfig {
  kind: string;
  engine: Record<string, unknown>;
  count: number;
  concurrency: number;
  work: number;
  warmup: number;
  /** Unique per run: workflow/job ids must not repeat on the same server. */
  prefix: string;
}

export interface ClientResult {
  latenciesMs: number[];
  wallMs: number;
  failures: number;
  firstFailure?: string;
  detail?: string;
}

async function runAll(count: number, concurrency: number, one: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await one(next++);
    }),
  );
}

async function main() {
  const config = JSON.parse(process.argv[2] ?? '') as ClientConfig;
  const client = await makeClient(config.kind, config.engine);
  exitWithParent(() => client.close());

  // Warm-up (not measured): connections, JIT, the engine's first-use paths. Retried while the
  // engine is still settling (e.g. Restate's ingress right after the deployment is registered).
  const deadline = Date.now() + 60_000;
  await runAll(config.warmup, config.concurrency, async (i) => {
    for (;;) {
      try {
        const r = await client.run(`${config.prefix}-warm-${i}-${Date.now()}`, { n: i, work: 0 });
        if (r !== expected(i)) throw new Error(`warm-up pipeline ${i} returned ${r}`);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  });
  const go = new Promise<void>((resolve) => {
    let buf = '';
    process.stdin.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      if (buf.includes('GO\n')) resolve();
    });
  });
  ready();
  await go;

  const latenciesMs: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const began = performance.now();
  await runAll(config.count, config.concurrency, async (i) => {
    const t0 = performance.now();
    try {
      const r = await client.run(`${config.prefix}-${i}`, { n: i, work: config.work });
      if (r !== expected(i)) throw new Error(`pipeline ${i} returned ${r}, expected ${expected(i)}`);
      latenciesMs.push(performance.now() - t0);
    } catch (err) {
      failures++;
      firstFailure ??= err instanceof Error ? err.message : String(err);
    }
  });
  const wallMs = performance.now() - began;
  const detail = latenciesMs.length
    ? await client.describe?.(`${config.prefix}-0`).catch((err: unknown) => `describe failed: ${String(err)}`)
    : undefined;
  const result: ClientResult = { latenciesMs, wallMs, failures, firstFailure, detail };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
