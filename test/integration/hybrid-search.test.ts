import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DEFAULT_DIM, hashingEmbedding } from '../../src/adapters/analyzer/offline-analyzer';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import type { SearchResponse } from '../../src/contracts/http';
import { VideoIndexRepo } from '../../src/db/video-index-repo';
import { taskQueues } from '../../src/pipeline/catalogue';
import { startApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { LIBRARY, QUERIES, recallAtK } from '../support/search-labelled-set';

// Issue 30, hybrid search on real parts: PostgreSQL full-text (this file's own database, all
// migrations), the embedded LanceDB vector store and the real HTTP app with the product's
// default analyzer (offline: feature-hashed embeddings). The rows, vectors and transcript
// segments of a 30-video labelled library are written directly, as the index saga and the
// transcript step would (the transcript writer is another part of the pipeline), so recall
// can be measured on known answers.
const SPACE = { analyzer: 'offline', model: 'hashing-v1', dim: DEFAULT_DIM };

let db: TestDatabase;
let dataDir: string;
let api: TestApi;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-hybrid-search-'));
  const store = await LanceDbVectorStore.open(path.join(dataDir, 'lancedb'));
  try {
    for (const [i, v] of LIBRARY.entries()) {
      const duration = 10 + i;
      await db.pool.query(
        `INSERT INTO videos (id, source, workflow_id, status, rendition_path, thumbnail_path, duration_sec, width, height,
           summary, tags, analyzer, model, dim, offline_analysis, vector_collection, analysis_state, searchable_at)
         VALUES ($1, $2, $3, 'ready', $4, $5, $6, 320, 240, $7, $8, $9, $10, $11, false, 'c', 'complete', now())`,
        [
          v.id,
          JSON.stringify({ kind: 'file', path: v.file }),
          `video-${v.id}`,
          `videos/${v.id}/rendition.mp4`,
          `videos/${v.id}/thumbnail.jpg`,
          duration,
          v.summary,
          v.tags,
          SPACE.analyzer,
          SPACE.model,
          SPACE.dim,
        ],
      );
      for (const [seq, [start, end, text]] of v.transcript.entries()) {
        await db.pool.query(
          `INSERT INTO transcript_segments (video_id, seq, start_sec, end_sec, text, language, ts_config)
           VALUES ($1, $2, $3, $4, $5, $6, $7::regconfig)`,
          [v.id, seq, start, end, text, v.language ?? 'en', v.tsConfig ?? 'english'],
        );
      }
    }
    // The vector the offline analyzer makes of a video's words (title without extension, summary, tags).
    await store.upsert(
      SPACE,
      LIBRARY.map((v) => ({
        id: v.id,
        vector: hashingEmbedding(`${v.file.replace(/\.mp4$/, '')}\n${v.summary}\n${v.tags.join(' ')}`, SPACE.dim),
        payload: { videoId: v.id, summary: v.summary, tags: v.tags },
      })),
    );
  } finally {
    await store.close();
  }
  // The search route never talks to Temporal: a client that connects lazily (never, here).
  api = await startApi({ client: new Client(), pool: db.pool, dataDir, ingestDir: dataDir, queues: taskQueues('hybrid-') });
}, 120_000);

afterAll(async () => {
  await api?.close();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function search(query: Record<string, string>): Promise<SearchResponse> {
  const res = await api.app.inject({ method: 'GET', url: `/search?${new URLSearchParams(query).toString()}` });
  expect(res.statusCode).toBe(200);
  return res.json() as SearchResponse;
}

test('hybrid recall@5 on the labelled set is at least that of vector-only and of text-only', async () => {
  const ranked = { hybrid: new Map<string, string[]>(), vector: new Map<string, string[]>(), text: new Map<string, string[]>() };
  for (const query of QUERIES) {
    for (const mode of ['hybrid', 'vector', 'text'] as const) {
      const page = await search({ q: query.q, mode, limit: '5' });
      expect(page.mode).toBe(mode);
      ranked[mode].set(
        query.q,
        page.results.map((r) => r.videoId),
      );
    }
  }
  const recall = {
    hybrid: recallAtK(ranked.hybrid, QUERIES, 5),
    vector: recallAtK(ranked.vector, QUERIES, 5),
    text: recallAtK(ranked.text, QUERIES, 5),
  };
  const byKind = (kind: string) => QUERIES.filter((q) => q.kind === kind);
  const detail = ['spoken', 'semantic', 'both'].map(
    (kind) =>
      `${kind} (${byKind(kind).length}): hybrid ${recallAtK(ranked.hybrid, byKind(kind), 5).toFixed(3)}, ` +
      `vector ${recallAtK(ranked.vector, byKind(kind), 5).toFixed(3)}, text ${recallAtK(ranked.text, byKind(kind), 5).toFixed(3)}`,
  );
  console.log(
    `recall@5 over ${QUERIES.length} queries, ${LIBRARY.length} videos: hybrid ${recall.hybrid.toFixed(3)}, ` +
      `vector-only ${recall.vector.toFixed(3)}, text-only ${recall.text.toFixed(3)}\n  ${detail.join('\n  ')}`,
  );
  expect(recall.hybrid).toBeGreaterThanOrEqual(recall.vector);
  expect(recall.hybrid).toBeGreaterThanOrEqual(recall.text);
  // The set is built so that each half misses what only the other finds: hybrid must beat both.
  expect(recall.hybrid).toBeGreaterThan(Math.max(recall.vector, recall.text));
  // Misspelt queries are out of the text half's reach; spoken words out of the semantic half's.
  expect(recallAtK(ranked.text, byKind('semantic'), 5)).toBe(0);
  expect(recallAtK(ranked.hybrid, byKind('spoken'), 5)).toBe(1);
}, 120_000);

test('a phrase spoken at second S finds its video with a moment that contains S', async () => {
  // "The fog horn has not worked…" is spoken from 4 s to 9 s of the lighthouse video.
  const S = 6;
  const page = await search({ q: 'fog horn' });
  const hit = page.results[0];
  expect(hit?.videoId).toBe('lighthouse');
  expect(hit?.ranks.text).toBe(1);
  const moment = hit?.moments[0];
  expect(moment).toMatchObject({ source: 'transcript', startSec: 4, endSec: 9 });
  expect(moment!.startSec).toBeLessThanOrEqual(S);
  expect(moment!.endSec).toBeGreaterThanOrEqual(S);
  expect(moment!.text).toMatch(/fog horn/);
  // The fields GET /search always had are still there.
  expect(hit).toEqual(
    expect.objectContaining({
      score: expect.any(Number),
      summary: expect.any(String),
      tags: expect.any(Array),
      durationSec: expect.any(Number),
      createdAt: expect.any(String),
      thumbnail: '/videos/lighthouse/thumbnail.jpg',
      rendition: '/videos/lighthouse/rendition.mp4',
    }),
  );
});

test('each segment is searched in its own language: "Brücke" finds the German "Brücken", "fromage" the French "fromages"', async () => {
  // Only the German stemmer joins these forms ('simple' and 'english' keep brücke ≠ brücken).
  const german = await search({ q: 'Brücke', mode: 'text' });
  expect(german.results.map((r) => r.videoId)).toEqual(['hamburg']);
  expect(german.results[0]?.moments[0]).toMatchObject({ startSec: 0, endSec: 6, text: expect.stringContaining('Brücken') });
  const french = await search({ q: 'fromage de chèvre', mode: 'text' });
  expect(french.results.map((r) => r.videoId)).toEqual(['provence']);
});

test('a video found only by meaning still shows where its words are said; one without a transcript has no moments', async () => {
  const page = await search({ q: 'harbour ferry' });
  const ids = page.results.map((r) => r.videoId);
  expect(ids.slice(0, 2).sort()).toEqual(['commute', 'ferry']);
  const ferry = page.results.find((r) => r.videoId === 'ferry')!;
  const commute = page.results.find((r) => r.videoId === 'commute')!;
  expect(ferry.moments).toEqual([]);
  expect(ferry.ranks.vector).toBe(1);
  expect(commute.ranks.text).toBe(1);
  expect(commute.moments[0]).toMatchObject({ startSec: 0, endSec: 5, text: expect.stringContaining('harbour ferry') });
  // No segment holds every word ("lighthose" is misspelt): the semantic hit shows the segment that holds some.
  const partial = await search({ q: 'lighthose fog' });
  expect(partial.results[0]).toMatchObject({ videoId: 'lighthouse', ranks: { text: null } });
  expect(partial.results[0]?.moments).toEqual([
    { startSec: 4, endSec: 9, text: 'The fog horn has not worked since the winter storm of eighty seven.', source: 'transcript' },
  ]);
});

test('the text half obeys the filters', async () => {
  expect((await search({ q: 'fog horn', mode: 'text', minDuration: '1000' })).results).toEqual([]);
  expect((await search({ q: 'pinch', mode: 'text' })).results.map((r) => r.videoId).sort()).toEqual(['pasta', 'tomatoes']);
  expect((await search({ q: 'pinch', mode: 'text', tags: 'garden' })).results.map((r) => r.videoId)).toEqual(['tomatoes']);
});

test('pages of the fused list do not overlap and say where the next one starts', async () => {
  const first = await search({ q: 'garden', limit: '2' });
  const second = await search({ q: 'garden', limit: '2', offset: '2' });
  expect(first.nextOffset).toBe(2);
  expect(first.results).toHaveLength(2);
  expect(second.results).toHaveLength(2);
  const a = first.results.map((r) => r.videoId);
  expect(second.results.map((r) => r.videoId).filter((id) => a.includes(id))).toEqual([]);
});

test('a bad mode is a 400 that names the parameter', async () => {
  const res = await api.app.inject({ method: 'GET', url: '/search?q=x&mode=fuzzy' });
  expect(res.statusCode).toBe(400);
  expect((res.json() as { error: { message: string } }).error.message).toMatch(/mode/);
});

test('a deleted video never appears, by its words, its transcript or its meaning', async () => {
  expect((await search({ q: 'sunrise yoga' })).results[0]?.videoId).toBe('yoga');
  await new VideoIndexRepo(db.pool).tombstone('yoga');
  for (const mode of ['hybrid', 'vector', 'text']) {
    for (const q of ['sunrise yoga', 'exhale and fold forward', 'yogga teachr']) {
      const ids = (await search({ q, mode, limit: '50' })).results.map((r) => r.videoId);
      expect(ids).not.toContain('yoga');
    }
  }
});
