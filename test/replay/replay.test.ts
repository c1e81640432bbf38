import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { dataConverterWith } from '../../src/temporal/payload-codec';
import { FIXTURE_PAYLOAD_KEY } from '../support/record-histories-18';

// Issue 18's fixtures carry URL payloads encrypted with a fixed test key; plain ones pass through the codec.
const dataConverter = dataConverterWith(Buffer.from(FIXTURE_PAYLOAD_KEY, 'base64'));

// Recorded with `npm run record-histories` (and the record-histories-NN scripts per issue): one
// history per branch of processVideo, and issue 17's deleteVideo saga.
const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'histories');

async function loadHistories() {
  const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (f) => ({ workflowId: f.replace(/\.json$/, ''), history: JSON.parse(await readFile(path.join(FIXTURES, f), 'utf8')) })),
  );
}

async function replay(workflowsPath: string) {
  const results: { workflowId: string; error?: unknown }[] = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath, dataConverter }, await loadHistories())) results.push(r);
  return results;
}

test('fixtures cover the completed run and the failure branches', async () => {
  const names = (await loadHistories()).map((h) => h.workflowId);
  expect(names).toEqual([
    'completed',
    'delete-video-17',
    'failed-ai-rejected',
    'failed-invalid-media',
    'index-compensated-17',
    'index-saga-17',
    'issue16-degraded-reanalysed',
    'segmented-15',
    'upload-completed-18',
    'url-refreshed-18',
  ]);
});

test('recorded histories replay without non-determinism against the current workflow code', async () => {
  const results = await replay(require.resolve('../../src/workflows'));
  expect(results.map((r) => [r.workflowId, r.error === undefined ? 'ok' : String(r.error)])).toEqual([
    ['completed', 'ok'],
    ['delete-video-17', 'ok'],
    ['failed-ai-rejected', 'ok'],
    ['failed-invalid-media', 'ok'],
    ['index-compensated-17', 'ok'],
    ['index-saga-17', 'ok'],
    ['issue16-degraded-reanalysed', 'ok'],
    ['segmented-15', 'ok'],
    ['upload-completed-18', 'ok'],
    ['url-refreshed-18', 'ok'],
  ]);
});

test('a workflow edit that reorders steps is caught as a DeterminismViolationError', async () => {
  // processVideo's histories only: the reordered bundle has no deleteVideo to replay.
  const results = (await replay(require.resolve('./fixtures/reordered-workflow'))).filter((r) => !r.workflowId.startsWith('delete-'));
  expect(results).toHaveLength(9);
  for (const r of results) expect(r.error).toBeInstanceOf(DeterminismViolationError);
});
