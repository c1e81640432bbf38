import type { AnalyzeOutput, MediaFacts } from '../../src/workflows/contracts';
import { VideoIndexRepo } from '../../src/db/video-index-repo';
import { createTestDatabase, type TestDatabase } from '../support/database';

// The index saga's row rules on a real PostgreSQL: a first index or a replay is not searchable
// until the saga's last step; a ready video being re-indexed stays searchable throughout.
let db: TestDatabase;
let rows: VideoIndexRepo;

beforeAll(async () => {
  db = await createTestDatabase();
  rows = new VideoIndexRepo(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

const facts: MediaFacts = {
  durationSec: 300,
  width: 1280,
  height: 720,
  videoCodec: 'h264',
  audioCodec: 'aac',
  frameRate: 30,
  sizeBytes: 1,
  container: 'mp4',
};
const media = { renditionPath: 'media/v/rendition.mp4', thumbnailPath: 'media/v/thumb.jpg', source: facts, rendition: facts };
const standIn: AnalyzeOutput = {
  analyzer: 'offline',
  model: 'none',
  dim: 4,
  offline: true,
  summary: 'stand-in',
  tags: [],
  embeddingPath: '-',
};
const full: AnalyzeOutput = {
  analyzer: 'openai',
  model: 'm',
  dim: 8,
  offline: false,
  summary: 'the real analysis',
  tags: ['harbor'],
  embeddingPath: '-',
};

const write = (id: string, analysis: AnalyzeOutput) =>
  rows.writeIndexRow(db.pool, { id, source: { kind: 'file', path: `${id}.mp4` }, workflowId: `video-${id}` }, media, analysis, 'videos');

test('a first index is searchable only after the last step', async () => {
  expect(await write('vi-first', standIn)).toBe(true);
  expect(await rows.state('vi-first')).toMatchObject({ status: 'queued', searchable: false });
  await rows.markSearchable('vi-first');
  expect(await rows.state('vi-first')).toMatchObject({ status: 'ready', searchable: true });
});

test('a ready video being re-indexed stays ready and searchable while the new row waits for its point', async () => {
  await write('vi-again', standIn);
  await rows.markSearchable('vi-again');
  expect(await write('vi-again', full)).toBe(true);
  expect(await rows.state('vi-again')).toMatchObject({ status: 'ready', searchable: true });
  const { rows: r } = await db.pool.query<{ summary: string }>('SELECT summary FROM videos WHERE id = $1', ['vi-again']);
  expect(r[0]!.summary).toBe('the real analysis');
});

test('a row the compensation failed is queued and hidden again until its replay finishes', async () => {
  await write('vi-failed', standIn);
  await rows.markSearchable('vi-failed');
  await rows.unmarkIndexed('vi-failed', 'VectorStoreUnavailable', 'down');
  expect(await write('vi-failed', full)).toBe(true);
  expect(await rows.state('vi-failed')).toMatchObject({ status: 'queued', searchable: false });
});
