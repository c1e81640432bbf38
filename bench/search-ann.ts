// Search benchmark (issue 17): exact (brute-force) vs ANN search in the embedded LanceDB store,
// at 10k and 100k vectors of dim 384, side by side in one run. Prints p50/p99 query latency,
// recall@10 of ANN against exact, and the speedup. Run with `npx tsx bench/search-ann.ts`
// (minutes: the 100k HNSW build dominates; not part of npm test).
//
// The vectors are SYNTHETIC: two-level clustered unit vectors (topics, sub-topics, points;
// test/support/synthetic-vectors.ts), not real embeddings — no embedding model runs here.
// Queries are fresh points near random sub-topics, never stored vectors.
// Both searches go through the production adapter: ANN = LanceDbVectorStore.search (the HNSW_SQ
// index maintain() builds, queried with its ef/refine settings), exact = searchExact (same
// table, index bypassed). Env: BENCH_SIZES=10000,100000 BENCH_QUERIES=200.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LanceDbVectorStore } from '../src/adapters/vector-store/lancedb-store';
import type { VectorHit, VectorSpace } from '../src/adapters/vector-store/port';
import { clusteredVectors, recallAtK } from '../test/support/synthetic-vectors';

const DIM = 384;
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const WARMUP = 10;
const K = 10;
const BATCH = 5_000;

export interface AnnResult {
  size: number;
  loadS: number;
  buildS: number;
  exact: { p50: number; p99: number };
  ann: { p50: number; p99: number };
  recall: number;
  minRecall: number;
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

/**
 * Times both searches query by query, interleaved (alternating which goes first), so load
 * from other processes on this shared machine hits both the same way and the ratio is fair.
 */
async function timedPair(
  queries: number[][],
  a: (q: number[]) => Promise<VectorHit[]>,
  b: (q: number[]) => Promise<VectorHit[]>,
): Promise<{ a: { ms: number[]; ids: string[][] }; b: { ms: number[]; ids: string[][] } }> {
  for (let j = 0; j < WARMUP; j++) {
    await a(queries[j % queries.length]!);
    await b(queries[j % queries.length]!);
  }
  const out = { a: { ms: [] as number[], ids: [] as string[][] }, b: { ms: [] as number[], ids: [] as string[][] } };
  const time = async (run: (q: number[]) => Promise<VectorHit[]>, q: number[], into: { ms: number[]; ids: string[][] }) => {
    const t = process.hrtime.bigint();
    const hits = await run(q);
    into.ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    into.ids.push(hits.map((h) => h.id));
  };
  for (const [j, q] of queries.entries()) {
    if (j % 2 === 0) {
      await time(a, q, out.a);
      await time(b, q, out.b);
    } else {
      await time(b, q, out.b);
      await time(a, q, out.a);
    }
  }
  return out;
}

export const ANN = { dim: DIM, k: K, warmup: WARMUP } as const;

/** Loads `size` synthetic vectors into a fresh store under `root`, builds the index, times `queries` queries each way. */
export async function benchSize(root: string, size: number, queryCount = QUERIES): Promise<AnnResult> {
  const data = clusteredVectors({ dim: DIM, topics: 100, subtopics: 20, seed: size });
  const space: VectorSpace = { analyzer: 'bench', model: `synthetic_${size}`, dim: DIM };
  const store = await LanceDbVectorStore.open(path.join(root, String(size)), { annThreshold: size });
  try {
    let t = Date.now();
    for (let i = 0; i < size; i += BATCH) {
      const n = Math.min(BATCH, size - i);
      await store.upsert(
        space,
        Array.from({ length: n }, (_, k) => ({ id: `v${i + k}`, vector: data.vector(i + k), payload: { n: i + k } })),
      );
    }
    const loadS = (Date.now() - t) / 1000;
    t = Date.now();
    const report = await store.maintain(space);
    const buildS = (Date.now() - t) / 1000;
    if (report.action !== 'built') throw new Error(`expected maintain() to build the index at ${size}, got ${JSON.stringify(report)}`);
    const queries = Array.from({ length: queryCount }, (_, j) => data.query(j));
    const { a: exact, b: ann } = await timedPair(
      queries,
      (q) => store.searchExact(space, q, K),
      (q) => store.search(space, q, K),
    );
    const recalls = ann.ids.map((ids, j) => recallAtK(ids, exact.ids[j]!));
    const stats = (ms: number[]) => {
      const s = [...ms].sort((a, b) => a - b);
      return { p50: percentile(s, 50), p99: percentile(s, 99) };
    };
    return {
      size,
      loadS,
      buildS,
      exact: stats(exact.ms),
      ann: stats(ann.ms),
      recall: recalls.reduce((a, b) => a + b, 0) / recalls.length,
      minRecall: Math.min(...recalls),
    };
  } finally {
    await store.close();
  }
}

async function main() {
  const root = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-ann-'));
  const started = Date.now();
  const results: AnnResult[] = [];
  try {
    for (const size of SIZES) {
      const r = await benchSize(root, size);
      results.push(r);
      console.log(`${size} vectors: loaded in ${r.loadS.toFixed(1)} s, HNSW_SQ index built in ${r.buildS.toFixed(1)} s`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const f = (n: number) => n.toFixed(2).padStart(8);
  console.log(
    `\nLanceDB search, dim ${DIM}, cosine, top-${K}, ${QUERIES} queries per cell (after ${WARMUP} warm-up), exact and ANN interleaved;`,
  );
  console.log('synthetic clustered vectors (100 topics x 20 sub-topics), not real embeddings.\n');
  console.log('vectors | exact p50 / p99 ms | ANN p50 / p99 ms | recall@10 mean (min) | speedup p50 / p99');
  for (const r of results) {
    console.log(
      `${String(r.size).padStart(7)} | ${f(r.exact.p50)} / ${f(r.exact.p99)} | ${f(r.ann.p50)} / ${f(r.ann.p99)} | ` +
        `${r.recall.toFixed(4)} (${r.minRecall.toFixed(1)})         | ${(r.exact.p50 / r.ann.p50).toFixed(1)}x / ${(r.exact.p99 / r.ann.p99).toFixed(1)}x`,
    );
  }
  const big = results.find((r) => r.size === 100_000);
  if (big) {
    const speedup = big.exact.p50 / big.ann.p50;
    const ok = speedup >= 25 && big.recall >= 0.99;
    console.log(
      `\ntarget at 100k (>= 25x faster at recall@10 >= 0.99): ${ok ? 'MET' : 'NOT MET'} (${speedup.toFixed(1)}x, ${big.recall.toFixed(4)})`,
    );
  }
  console.log(`total ${((Date.now() - started) / 1000).toFixed(0)} s, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

if (require.main === module)
  main().catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exit(1);
  });
