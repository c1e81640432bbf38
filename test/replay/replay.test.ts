import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { dataConverterWith } from '../../src/temporal/payload-codec';
import { FIXTURE_PAYLOAD_KEY, HISTORIES_DIR } from '../support/save-history';

// URL payloads in the fixtures are encrypted with a fixed test key; plain ones pass through the codec.
const dataConverter = dataConverterWith(Buffer.from(FIXTURE_PAYLOAD_KEY, 'base64'));

// Recorded by `npm run record-histories` (test/support/record-histories.ts): one history per
// branch of processVideo, deleteVideo and reanalyzeVideo.
const RECORDED = [
  'analysis-degraded-reanalysed',
  'analysis-rejected-failed',
  'delete-video',
  'index-compensated-failed',
  'invalid-media-failed',
  'operator-cancelled',
  'reanalyze-video-completed',
  'segmented-completed',
  'single-pass-completed',
  'upload-completed',
  'url-refreshed-completed',
];
// processVideo's branches as recorded before the coarse-media patch (one activity per media
// part): runs of that shape may still be replayed or reset after the deploy (docs/versioning.md).
const BEFORE_COARSE_MEDIA = RECORDED.filter((b) => !b.startsWith('delete-') && !b.startsWith('reanalyze-')).map((b) => `step-by-step-${b}`);
const BRANCHES = [...RECORDED, ...BEFORE_COARSE_MEDIA].sort();

async function loadHistories() {
  const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: JSON.parse(await readFile(path.join(HISTORIES_DIR, f), 'utf8')),
    })),
  );
}

async function replay(workflowsPath: string) {
  const results: { workflowId: string; error?: unknown }[] = [];
  for await (const r of Worker.runReplayHistories({ workflowsPath, dataConverter }, await loadHistories())) results.push(r);
  return results;
}

test('fixtures cover the completed runs and every failure, degradation, refresh, cancel and delete branch', async () => {
  expect((await loadHistories()).map((h) => h.workflowId)).toEqual(BRANCHES);
});

test('recorded histories replay without non-determinism against the current workflow code', async () => {
  const results = await replay(require.resolve('../../src/workflows'));
  expect(results.map((r) => [r.workflowId, r.error === undefined ? 'ok' : String(r.error)])).toEqual(BRANCHES.map((b) => [b, 'ok']));
});

test('a workflow edit that reorders steps is caught as a DeterminismViolationError', async () => {
  // processVideo's histories only: the reordered bundle has no deleteVideo or reanalyzeVideo to replay.
  const results = (await replay(require.resolve('./fixtures/reordered-workflow'))).filter(
    (r) => !r.workflowId.startsWith('delete-') && !r.workflowId.startsWith('reanalyze-'),
  );
  expect(results).toHaveLength(BRANCHES.length - 2);
  for (const r of results) expect(r.error).toBeInstanceOf(DeterminismViolationError);
});
