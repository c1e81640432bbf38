import { TranscriptsRepo } from '../../src/db/transcripts-repo';
import { VideoIndexRepo } from '../../src/db/video-index-repo';
import { createTestDatabase, type TestDatabase } from '../support/database';

// Issue 30 on a real PostgreSQL: the index saga's write of the timed transcript (replace on
// re-analysis, the language's text-search configuration) and its removal with the row.
let db: TestDatabase;
let repo: TranscriptsRepo;

beforeAll(async () => {
  db = await createTestDatabase();
  repo = new TranscriptsRepo(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

async function video(id: string): Promise<void> {
  await db.pool.query(`INSERT INTO videos (id, source, workflow_id, status) VALUES ($1, $2, $3, 'ready')`, [
    id,
    JSON.stringify({ kind: 'file', path: `${id}.mp4` }),
    `video-${id}`,
  ]);
}

const configOf = async (id: string) =>
  (await db.pool.query<{ c: string }>('SELECT DISTINCT ts_config::text AS c FROM transcript_segments WHERE video_id = $1', [id])).rows.map(
    (r) => r.c,
  );
const matches = async (id: string, q: string, config: string) =>
  (
    await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM transcript_segments WHERE video_id = $1 AND tsv @@ plainto_tsquery($3::regconfig, $2)`,
      [id, q, config],
    )
  ).rows[0]!.n;

test('a re-analysis replaces the segments whole, in time order', async () => {
  await video('tr-replace');
  await repo.replace(
    db.pool,
    'tr-replace',
    [
      { startSec: 1, endSec: 2, text: 'one' },
      { startSec: 3, endSec: 4, text: 'two' },
      { startSec: 5, endSec: 6, text: 'three' },
    ],
    'en',
  );
  await repo.replace(db.pool, 'tr-replace', [{ startSec: 10.5, endSec: 12, text: 'again' }], 'en');
  expect(await repo.read('tr-replace')).toEqual({ language: 'en', segments: [{ startSec: 10.5, endSec: 12, text: 'again' }] });
  await repo.replace(db.pool, 'tr-replace', [], undefined);
  expect(await repo.read('tr-replace')).toEqual({ language: null, segments: [] });
  expect(await repo.language('tr-replace')).toBeUndefined();
});

test('stems by the detected language, and falls back to simple for a language PostgreSQL has no configuration for', async () => {
  await video('tr-en');
  await repo.replace(db.pool, 'tr-en', [{ startSec: 0, endSec: 2, text: 'A red car drives along the beaches' }], 'en');
  expect(await configOf('tr-en')).toEqual(['english']);
  expect(await matches('tr-en', 'drive beach', 'english')).toBe(1);

  await video('tr-de');
  await repo.replace(db.pool, 'tr-de', [{ startSec: 0, endSec: 2, text: 'Die Kraniche fliegen über den Häfen' }], 'de');
  expect(await configOf('tr-de')).toEqual(['german']);

  await video('tr-ja');
  await repo.replace(db.pool, 'tr-ja', [{ startSec: 0, endSec: 2, text: 'konnichiwa sekai' }], 'ja');
  expect(await configOf('tr-ja')).toEqual(['simple']);
  expect(await repo.language('tr-ja')).toBe('ja');
});

test('a batch larger than one INSERT keeps every segment and its order', async () => {
  await video('tr-long');
  const segments = Array.from({ length: 1_234 }, (_, i) => ({ startSec: i * 2, endSec: i * 2 + 1.5, text: `segment ${i}` }));
  await repo.replace(db.pool, 'tr-long', segments, 'en');
  const read = await repo.read('tr-long');
  expect(read.segments).toHaveLength(1_234);
  expect(read.segments[1_233]).toEqual(segments[1_233]);
});

test("the segments go with the video's row when deletion purges it", async () => {
  await video('tr-gone');
  await repo.replace(db.pool, 'tr-gone', [{ startSec: 0, endSec: 1, text: 'bye' }], 'en');
  const index = new VideoIndexRepo(db.pool);
  await index.tombstone('tr-gone');
  expect(await index.purge('tr-gone')).toBe(true);
  expect(await repo.read('tr-gone')).toEqual({ language: null, segments: [] });
});
