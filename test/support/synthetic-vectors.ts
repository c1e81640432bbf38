// Synthetic, clustered "embeddings" for the ANN test and bench/search-ann.ts: no real
// embedding model runs here. Real text embeddings are not uniform noise, they bunch around
// topics; uniform random vectors in high dimension are all nearly orthogonal, so every point
// is about as near as every other and "nearest" means little. Clusters are closer to what an
// index sees; recall on real embeddings should still be measured once they exist.
// Deterministic (seeded), so runs and failures are reproducible.

/** mulberry32: a tiny seeded PRNG; quality is ample for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal via Box-Muller. */
function gaussian(rnd: () => number): number {
  const u = Math.max(rnd(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = 1 / Math.sqrt(n || 1);
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * inv;
  return v;
}

export interface ClusteredVectors {
  /** Unit vector i of the data set (a sub-topic centre plus gaussian spread, normalised). */
  vector(i: number): number[];
  /** A query: a fresh point near a random sub-topic, not one of the stored vectors. */
  query(j: number): number[];
}

export interface ClusterShape {
  dim: number;
  /** Broad topics (random unit centres). */
  topics: number;
  /** Sub-topics per topic: its centre plus `topicSpread` noise. */
  subtopics: number;
  seed: number;
  /** Noise norm from topic to sub-topic centre (0.5: cosine ≈ 0.9 to the topic). */
  topicSpread?: number;
  /** Noise norm from sub-topic centre to a point (0.35: cosine ≈ 0.94 to the sub-topic). */
  pointSpread?: number;
}

/**
 * Two-level clusters, like embeddings of a video library: topics, sub-topics within them,
 * videos around a sub-topic. Point i belongs to sub-topic (i mod topics·subtopics); its
 * vector is derived from (seed, i), so a point can be regenerated without storing the set.
 */
export function clusteredVectors(shape: ClusterShape): ClusteredVectors {
  const { dim, topics, subtopics, seed } = shape;
  const rnd = seededRandom(seed);
  const jitter = (base: Float32Array, norm: number, r: () => number) => {
    const sigma = norm / Math.sqrt(dim);
    return normalize(Float32Array.from(base, (x) => x + sigma * gaussian(r)));
  };
  const topicCentres = Array.from({ length: topics }, () => normalize(Float32Array.from({ length: dim }, () => gaussian(rnd))));
  const subCentres = topicCentres.flatMap((t) => Array.from({ length: subtopics }, () => jitter(t, shape.topicSpread ?? 0.5, rnd)));
  const point = (sub: number, r: () => number) => Array.from(jitter(subCentres[sub % subCentres.length]!, shape.pointSpread ?? 0.35, r));
  return {
    vector: (i) => point(i, seededRandom(seed * 7919 + i + 1)),
    query: (j) => {
      const r = seededRandom(seed * 104729 + 1_000_003 + j);
      return point(Math.floor(r() * subCentres.length), r);
    },
  };
}

/** |approx ∩ exact| / |exact| over the top-k ids: recall@k of an approximate search. */
export function recallAtK(approx: string[], exact: string[]): number {
  if (exact.length === 0) return 1;
  const truth = new Set(exact);
  return approx.filter((id) => truth.has(id)).length / exact.length;
}
