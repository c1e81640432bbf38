import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../media/work-area';

/**
 * Embeddings are too large for workflow history, so the AI step writes them here and passes
 * the path on. Written via rename so a reader never sees half a file.
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

/** The artifact at `file`; throws when it is missing, damaged or holds no vector. */
export async function readEmbeddingArtifact(file: string): Promise<EmbeddingArtifact> {
  const raw = await readFile(file, 'utf8');
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
