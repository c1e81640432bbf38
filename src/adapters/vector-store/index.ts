import type { QdrantConfig } from '../../config';
import { LanceDbVectorStore } from './lancedb-store';
import type { VectorStore } from './port';
import { QdrantVectorStore } from './qdrant-store';

export * from './port';
export { LanceDbVectorStore } from './lancedb-store';
export { QdrantVectorStore } from './qdrant-store';

/** Qdrant when configured (production), otherwise the embedded LanceDB needing no server. */
export async function createVectorStore(cfg: { vectorDir: string; qdrant?: QdrantConfig }): Promise<VectorStore> {
  if (cfg.qdrant) return new QdrantVectorStore(cfg.qdrant);
  return LanceDbVectorStore.open(cfg.vectorDir);
}
