// A second (and third) writer *process* for the LanceDB concurrency test: the production
// adapter, with or without the PostgreSQL advisory lock the index workers use.
// argv: dir databaseUrl tag lock(1|0) sharedIds ownIds rounds
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { PgAdvisoryLock } from '../../src/db/advisory-lock';
import { createPool } from '../../src/db/database';

async function main() {
  const [dir, databaseUrl, tag, lock, shared, own, rounds] = process.argv.slice(2);
  const pool = createPool(databaseUrl!, 4);
  const store = await LanceDbVectorStore.open(dir!, { lock: lock === '1' ? new PgAdvisoryLock(pool) : undefined });
  const space = { analyzer: 'concurrency', model: 'test', dim: 8 };
  const vec = (i: number) => Array.from({ length: 8 }, (_, j) => (j === i % 8 ? 1 : 0.01 * j));
  // Wait for the go signal on stdin so both processes start writing at the same moment.
  await new Promise((resolve) => process.stdin.once('data', resolve));
  for (let r = 0; r < Number(rounds); r++) {
    const sharedBatch = Array.from({ length: Number(shared) }, (_, i) => ({ id: `same-${r}-${i}`, vector: vec(i), payload: { by: tag } }));
    const ownBatch = Array.from({ length: Number(own) }, (_, i) => ({ id: `${tag}-${r}-${i}`, vector: vec(i), payload: { by: tag } }));
    // A duplicate inside one batch too (LanceDB would insert it twice without the dedupe).
    await Promise.all([store.upsert(space, [...sharedBatch, ...sharedBatch.slice(0, 1)]), store.upsert(space, ownBatch)]);
  }
  await store.close();
  await pool.end();
  process.stdout.write('done\n');
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
