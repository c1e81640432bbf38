import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ObjectStorage } from '../adapters/storage/port';
import { embeddingKey } from '../media/artifact-keys';
import { writeFileAtomic } from '../media/work-area';

/**
 * Embeddings are too large for workflow history, so the AI step writes them to the store (or,
 * without one, to a local file: histories recorded before the data plane carry such paths) and
 * passes where on. The index step and the reconciler read it back from any host.
 */
const embeddingArtifactSchema = z.object({
  videoId: z.string(),
  analyzer: z.string(),
  model: z.string(),
  vector: z.array(z.number()).min(1),
});
export type EmbeddingArtifact = z.infer<typeof embeddingArtifactSchema>;

export async function writeEmbeddingArtifact(dir: string, a: EmbeddingArtifact): Promise<string> {
  const folder = path.join(dir, a.videoId);
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `embedding.${a.analyzer}.json`);
  await writeFileAtomic(file, JSON.stringify(a));
  return file;
}

/** Writes the artifact to the store (a whole object) and returns its key. */
export async function putEmbeddingArtifact(storage: ObjectStorage, a: EmbeddingArtifact): Promise<string> {
  const key = embeddingKey(a.videoId, a.analyzer);
  await storage.putBytes(key, JSON.stringify(a), 'application/json');
  return key;
}

/**
 * The artifact at `location`: a local file path (absolute: older histories and rows) or a store
 * key. Throws when it is missing, damaged or holds no vector.
 */
export async function loadEmbeddingArtifact(location: string, storage: ObjectStorage | undefined): Promise<EmbeddingArtifact> {
  if (path.isAbsolute(location)) return readEmbeddingArtifact(location);
  if (!storage) throw new Error(`embedding artifact ${location} is in object storage, and this worker has none`);
  const bytes = await storage.getBytes(location);
  if (!bytes) throw new Error(`embedding artifact ${location} is missing from object storage`);
  return parseArtifact(bytes.toString('utf8'), location);
}

/** The artifact at `file`; throws when it is missing, damaged or holds no vector. */
export async function readEmbeddingArtifact(file: string): Promise<EmbeddingArtifact> {
  return parseArtifact(await readFile(file, 'utf8'), file);
}

function parseArtifact(raw: string, file: string): EmbeddingArtifact {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`embedding artifact ${file} is not JSON`);
  }
  const parsed = embeddingArtifactSchema.safeParse(json);
  if (!parsed.success) throw new Error(`embedding artifact ${file} holds no vector`);
  return parsed.data;
}
