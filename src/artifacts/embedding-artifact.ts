import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Embeddings are too large for workflow history, so the AI step writes them here and passes
 * the path on. Written via rename so a reader never sees half a file.
 */
export interface EmbeddingArtifact {
  videoId: string;
  analyzer: string;
  model: string;
  vector: number[];
}

export async function writeEmbeddingArtifact(dir: string, a: EmbeddingArtifact): Promise<string> {
  const folder = path.join(dir, a.videoId);
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `embedding.${a.analyzer}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(a));
  await rename(tmp, file);
  return file;
}

export async function readEmbeddingArtifact(file: string): Promise<EmbeddingArtifact> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as EmbeddingArtifact;
  if (!Array.isArray(parsed.vector) || parsed.vector.length === 0) {
    throw new Error(`embedding artifact ${file} holds no vector`);
  }
  return parsed;
}
