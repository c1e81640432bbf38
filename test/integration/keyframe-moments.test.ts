import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { DEFAULT_DIM, hashingEmbedding } from '../../src/adapters/analyzer/offline-analyzer';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import type { SearchResponse } from '../../src/contracts/http';
import { KeyframeMomentsRepo } from '../../src/db/keyframe-moments-repo';
import { LAST_KEYFRAME_MOMENT_SEC } from '../../src/db/text-search-repo';
import { VideoIndexRepo } from '../../src/db/video-index-repo';
import { taskQueues } from '../../src/pipeline/catalogue';
import type { Shot } from '../../src/workflows/contracts';
import { startApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/database';

// Search that lands on the shot, on real parts: PostgreSQL full-text (all migrations), the
// embedded LanceDB store and the real HTTP app with the product's default (offline) analyzer.
// Keyframe descriptions are written with the index saga's writer (KeyframeMomentsRepo.replace),
// as the saga stores an AI analysis's shots; the pipeline end to end is test/e2e/search-moments.test.ts.
const SPACE = { analyzer: 'offline', model: 'hashing-v1', dim: DEFAULT_DIM };

interface Video {
  id: string;
  summary: string;
  tags: string[];
  durationSec: number;
  shots: Shot[];
  transcript?: [number, number, string][];
}

// Neither summary nor tags nor title say "red car": the beach video is found by what it shows only.
const VIDEOS: Video[] = [
  {
    id: 'beach',
    summary: 'A weekend trip to the coast.',
    tags: ['trip'],
    durationSec: 20,
    shots: [
      { atSec: 0, description: 'a blue sky over a calm sea' },
      { atSec: 6, description: 'a red car parked on a sandy beach' },
      { atSec: 17, description: 'a dog running along the water' },
    ],
  },
  {
    id: 'garage',
    summary: 'A mechanic explains a repair.',
    tags: ['repair'],
    durationSec: 30,
    shots: [
      { atSec: 2, description: 'a mechanic under a car lifted on a ramp' },
      { atSec: 12, description: 'a close-up of worn brake pads' },
    ],
    transcript: [
      [3, 7, 'This red car needs new brakes before winter.'],
      [7, 12, 'First we take the wheel off.'],
    ],
  },
  {
    id: 'meadow',
    summary: 'Cows on a summer afternoon.',
    tags: ['farm'],
    durationSec: 15,
    shots: [{ atSec: 1, description: 'cows grazing in a green meadow' }],
  },
];

let db: TestDatabase;
let dataDir: string;
let api: TestApi;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-keyframe-moments-'));
  const store = await LanceDbVectorStore.open(path.join(dataDir, 'lancedb'));
  try {
    for (const v of VIDEOS) {
      await db.pool.query(
        `INSERT INTO videos (id, source, workflow_id, status, rendition_path, thumbnail_path, duration_sec, width, height,
           summary, tags, analyzer, model, dim, offline_analysis, vector_collection, analysis_state, searchable_at)
         VALUES ($1, $2, $3, 'ready', $4, $5, $6, 320, 240, $7, $8, $9, $10, $11, false, 'c', 'complete', now())`,
        [
          v.id,
          JSON.stringify({ kind: 'file', path: `${v.id}.mp4` }),
          `video-${v.id}`,
          `videos/${v.id}/rendition.mp4`,
          `videos/${v.id}/thumbnail.jpg`,
          v.durationSec,
          v.summary,
          v.tags,
          SPACE.analyzer,
          SPACE.model,
          SPACE.dim,
        ],
      );
      await KeyframeMomentsRepo.replace(db.pool, v.id, v.shots);
      for (const [seq, [start, end, text]] of (v.transcript ?? []).entries()) {
        await db.pool.query(
          `INSERT INTO transcript_segments (video_id, seq, start_sec, end_sec, text, language, ts_config)
           VALUES ($1, $2, $3, $4, $5, 'en', 'english')`,
          [v.id, seq, start, end, text],
        );
      }
    }
    await store.upsert(
      SPACE,
      VIDEOS.map((v) => ({
        id: v.id,
        vector: hashingEmbedding(`${v.id}\n${v.summary}\n${v.tags.join(' ')}`, SPACE.dim),
        payload: { videoId: v.id, summary: v.summary, tags: v.tags },
      })),
    );
  } finally {
    await store.close();
  }
  // The search route never talks to Temporal: a client that connects lazily (never, here).
  api = await startApi({ client: new Client(), pool: db.pool, dataDir, ingestDir: dataDir, queues: taskQueues('keyframes-') });
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

const rows = async (videoId: string): Promise<number> =>
  (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM keyframe_moments WHERE video_id = $1', [videoId])).rows[0]!.n;

test('a video found only by what it shows ranks in the text half, with a keyframe moment from its second to the next keyframe', async () => {
  const text = await search({ q: 'red car', mode: 'text' });
  expect(text.results.map((r) => r.videoId).sort()).toEqual(['beach', 'garage']);
  const page = await search({ q: 'red car' });
  const beach = page.results.find((r) => r.videoId === 'beach')!;
  expect(beach.ranks.text).not.toBeNull();
  expect(beach.moments).toEqual([{ startSec: 6, endSec: 17, text: 'a red car parked on a sandy beach', source: 'keyframe' }]);
});

test("the last keyframe's moment lasts a few seconds, never past the video's end", async () => {
  const dog = (await search({ q: 'dog running', mode: 'text' })).results[0]!;
  expect(dog.videoId).toBe('beach');
  expect(17 + LAST_KEYFRAME_MOMENT_SEC).toBeGreaterThan(20);
  expect(dog.moments[0]).toEqual({ startSec: 17, endSec: 20, text: 'a dog running along the water', source: 'keyframe' });
  const cows = (await search({ q: 'cows grazing', mode: 'text' })).results[0]!;
  expect(cows.moments[0]).toMatchObject({ startSec: 1, endSec: 1 + LAST_KEYFRAME_MOMENT_SEC, source: 'keyframe' });
});

test('what is said and what is shown are merged per video, best first, at most three', async () => {
  // "brake": said at 3 s ("brakes", every word of "red car brakes"), shown at 12 s (some words).
  const garage = (await search({ q: 'red car brakes', mode: 'text' })).results.find((r) => r.videoId === 'garage')!;
  expect(garage.moments.map((m) => [m.source, m.startSec])).toEqual([
    ['transcript', 3],
    ['keyframe', 2],
    ['keyframe', 12],
  ]);
  const partial = (await search({ q: 'car ramp wheel' })).results.find((r) => r.videoId === 'garage')!;
  expect(partial.moments.length).toBeLessThanOrEqual(3);
  expect(new Set(partial.moments.map((m) => m.source))).toEqual(new Set(['transcript', 'keyframe']));
});

test("a re-analysis replaces the video's keyframe moments", async () => {
  await KeyframeMomentsRepo.replace(db.pool, 'meadow', [{ atSec: 3, description: 'a yellow kite above the grass' }]);
  expect(await KeyframeMomentsRepo.read(db.pool, 'meadow')).toEqual([{ atSec: 3, description: 'a yellow kite above the grass' }]);
  expect((await search({ q: 'cows grazing', mode: 'text' })).results.map((r) => r.videoId)).not.toContain('meadow');
  expect((await search({ q: 'kite', mode: 'text' })).results[0]).toMatchObject({
    videoId: 'meadow',
    moments: [{ startSec: 3, source: 'keyframe' }],
  });
  await KeyframeMomentsRepo.replace(db.pool, 'meadow', []);
  expect(await rows('meadow')).toBe(0);
});

test('deleting a video hides its shots from search at once and removes its keyframe rows with the row', async () => {
  const index = new VideoIndexRepo(db.pool);
  expect(await rows('beach')).toBe(3);
  await index.tombstone('beach');
  for (const mode of ['hybrid', 'text']) {
    expect((await search({ q: 'red car', mode, limit: '50' })).results.map((r) => r.videoId)).not.toContain('beach');
  }
  // The deletion saga's last step (purgeVideoRow): the row goes, its keyframe rows with it.
  expect(await index.purge('beach')).toBe(true);
  expect(await rows('beach')).toBe(0);
});
