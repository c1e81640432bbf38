import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { vectorStoreContract } from './vector-store.contract';

let dir: string | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-lancedb-contract-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

vectorStoreContract('lancedb', async () => {
  if (!dir) throw new Error('temp dir not created');
  // A subdirectory that does not exist yet: the store must create it, as it does on first run.
  return LanceDbVectorStore.open(path.join(dir, 'lancedb'));
});
