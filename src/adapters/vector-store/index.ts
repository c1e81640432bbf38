import type { LanceDbConfig, QdrantConfig } from '../../config';
import { FaultInjectingVectorStore } from './fault-injecting-store';
import { LanceDbVectorStore } from './lancedb-store';
import type { VectorStore, WriteLock } from './port';
import { QdrantVectorStore } from './qdrant-store';

export * from './port';
export { LanceDbVectorStore } from './lancedb-store';
export { QdrantVectorStore } from './qdrant-store';

/** Qdrant when configured (production), otherwise the embedded LanceDB needing no server. */
export async function createVectorStore(cfg: {
  /** A directory or s3:// prefix, with the object-store options an s3:// one needs. */
  lancedb: LanceDbConfig;
  qdrant?: QdrantConfig;
  /** Cross-process write lock for LanceDB (index workers pass PgAdvisoryLock). */
  lock?: WriteLock;
  index?: { annThreshold: number; testFaultFile?: string };
}): Promise<VectorStore> {
  const store: VectorStore = cfg.qdrant
    ? new QdrantVectorStore(cfg.qdrant)
    : await LanceDbVectorStore.open(cfg.lancedb.uri, {
        lock: cfg.lock,
        annThreshold: cfg.index?.annThreshold,
        storageOptions: cfg.lancedb.storageOptions,
      });
  return cfg.index?.testFaultFile ? new FaultInjectingVectorStore(store, cfg.index.testFaultFile) : store;
}
