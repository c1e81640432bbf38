// Pipeline worker time-to-ready with the prebuilt workflow bundle and without it (webpack at
// start). Alternates the two so machine load hits both alike; prints every run and min/median.
// Run with `npm run build && npx tsx bench/worker-start.ts` (BENCH_RUNS, default 5 of each).
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../test/support/database';
import { startTemporal } from '../test/support/temporal';
import { startWorkers } from '../test/support/workers';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BUNDLE = path.resolve(__dirname, '..', 'dist', 'workflow-bundle.js');
const ASIDE = `${BUNDLE}.bench-aside`;

async function main(): Promise<void> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-start-'));
  const env = await startTemporal();
  const db = await createTestDatabase();
  const times: Record<'bundle' | 'workflowsPath', number[]> = { bundle: [], workflowsPath: [] };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const kind of ['bundle', 'workflowsPath'] as const) {
        // Without the bundle the worker falls back to bundling from source, as under tsx.
        if (kind === 'workflowsPath') await rename(BUNDLE, ASIDE);
        try {
          const began = performance.now();
          const w = await startWorkers(['pipeline'], {
            temporalAddress: env.address,
            databaseUrl: db.url,
            dataDir,
            queuePrefix: `bench${process.pid}-${i}-${kind}-`,
          });
          const ms = Math.round(performance.now() - began);
          const used = /"workflowCode":"(\w+)"/.exec(w.output.get('pipeline') ?? '')?.[1];
          await w.stop();
          if (used !== kind) throw new Error(`expected the worker to use ${kind}, it logged ${used}`);
          times[kind].push(ms);
          console.log(`run ${i + 1} ${kind}: ${ms} ms to "worker ready" (load ${os.loadavg()[0]!.toFixed(2)})`);
        } finally {
          if (kind === 'workflowsPath') await rename(ASIDE, BUNDLE);
        }
      }
    }
  } finally {
    await env.teardown();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
  for (const [kind, ms] of Object.entries(times)) {
    const sorted = [...ms].sort((a, b) => a - b);
    console.log(`${kind}: min ${sorted[0]} ms, median ${sorted[Math.floor(sorted.length / 2)]} ms (n=${sorted.length})`);
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
