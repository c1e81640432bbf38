import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { materializeSource } from '../../src/media/source';

// The rest of materializeSource's confinement is in test/unit/source-guard.test.ts; a FIFO needs
// mkfifo(1) (Node cannot make one), and the unit layer runs no programs besides Node.
let root: string;
let ingest: string;
const releases: (() => Promise<void>)[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'biblio-fifo-'));
  ingest = path.join(root, 'ingest');
  await mkdir(ingest);
  execFileSync('mkfifo', [path.join(ingest, 'pipe.mp4')]);
});

afterAll(async () => {
  for (const r of releases) await r();
  await rm(root, { recursive: true, force: true });
});

test('fails a FIFO at once (no waiting for a writer) with SourceNotRegularFile', async () => {
  const started = Date.now();
  const err = await materializeSource(
    { kind: 'file', path: path.join(ingest, 'pipe.mp4') },
    { workDir: root, maxBytes: 1_000_000, ingestDir: ingest, onRelease: (r: () => Promise<void>) => releases.push(r) },
  ).then(
    () => new Error('expected a rejection, but it resolved'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe('SourceNotRegularFile');
  expect(Date.now() - started).toBeLessThan(2_000);
});
