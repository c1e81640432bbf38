// A writer *process* for the LanceDB concurrency test: the production adapter, with or without
// the PostgreSQL advisory lock the index workers use.
// argv: dir databaseUrl tag lock(1|0) sharedIds ownIds rounds (dir may be s3://bucket/prefix, with the
// object-store options as JSON in LANCE_STORAGE_OPTIONS)
// Protocol on stdio: prints "ready" once loaded, waits for a "go <start> <interval>" line on
// stdin (round r starts at start + r * interval, epoch ms), writes, prints
// "done <ms>" and exits. The parent must not need to close stdin for the process to end: stdin
// is destroyed after "go" (an open stdin pipe in flowing mode keeps Node alive forever), and
// the process exits explicitly once its handles are closed.
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { PgAdvisoryLock } from '../../src/db/advisory-lock';
import { createPool } from '../../src/db/database';

/** Resolves with the schedule of the "go <startEpochMs> <roundIntervalMs>" line. */
function waitForGo(): Promise<{ start: number; interval: number }> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      const m = /go (\d+) (\d+)\n/.exec(buf);
      if (!m) return;
      process.stdin.off('data', onData);
      process.stdin.destroy();
      resolve({ start: Number(m[1]), interval: Number(m[2]) });
    };
    process.stdin.on('data', onData);
    process.stdin.once('end', () => reject(new Error('stdin closed before "go"')));
  });
}

/**
 * Retries a write the way Temporal retries upsertVector: without the lock, two processes creating
 * the table at once can make one commit fail ("Incompatible transaction"); the retry lands it.
 */
async function retried(write: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function main() {
  const [dir, databaseUrl, tag, lock, shared, own, rounds] = process.argv.slice(2);
  if (!dir || !databaseUrl || !tag) throw new Error('usage: lance-writer dir databaseUrl tag lock shared own rounds');
  const pool = createPool(databaseUrl, 4);
  const storageOptions = process.env.LANCE_STORAGE_OPTIONS
    ? (JSON.parse(process.env.LANCE_STORAGE_OPTIONS) as Record<string, string>)
    : undefined;
  const store = await LanceDbVectorStore.open(dir, { lock: lock === '1' ? new PgAdvisoryLock(pool) : undefined, storageOptions });
  const space = { analyzer: 'concurrency', model: 'test', dim: 8 };
  const vec = (i: number) => Array.from({ length: 8 }, (_, j) => (j === i % 8 ? 1 : 0.01 * j));
  // Touch the pool now so the first locked write does not pay for the connection.
  await pool.query('SELECT 1');
  process.stdout.write('ready\n');
  const schedule = await waitForGo();
  const started = Date.now();
  for (let r = 0; r < Number(rounds); r++) {
    // Both processes begin round r at the same wall-clock moment, so their writes of the
    // same new ids overlap in every round instead of drifting apart after the first.
    const wait = schedule.start + r * schedule.interval - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sharedBatch = Array.from({ length: Number(shared) }, (_, i) => ({ id: `same-${r}-${i}`, vector: vec(i), payload: { by: tag } }));
    const ownBatch = Array.from({ length: Number(own) }, (_, i) => ({ id: `${tag}-${r}-${i}`, vector: vec(i), payload: { by: tag } }));
    // A duplicate inside one batch too (LanceDB would insert it twice without the dedupe).
    await Promise.all([
      retried(() => store.upsert(space, [...sharedBatch, ...sharedBatch.slice(0, 1)])),
      retried(() => store.upsert(space, ownBatch)),
    ]);
  }
  const ms = Date.now() - started;
  await store.close();
  await pool.end();
  process.stdout.write(`done ${ms}\n`, () => process.exit(0));
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`, () => process.exit(1));
});
