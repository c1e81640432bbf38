import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { createAnalyzer } from '../../src/adapters/analyzer';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { buildApp } from '../../src/api/app';
import { DeletionService } from '../../src/app/deletion-service';
import { SearchService } from '../../src/app/search-service';
import { VideoService } from '../../src/api/video-service';
import type { OpenAiConfig } from '../../src/config';
import type { TaskQueues } from '../../src/queues';

export interface TestApi {
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The real HTTP app, in-process (requests via inject), wired like src/api/main.ts. */
export async function startApi(o: {
  client: Client;
  pool: Pool;
  dataDir: string;
  ingestDir: string;
  queues: TaskQueues;
  openai?: OpenAiConfig;
  /** How long DELETE waits for the deletion saga before answering 202. */
  deleteWaitMs?: number;
}): Promise<TestApi> {
  const vectorStore = await LanceDbVectorStore.open(`${o.dataDir}/lancedb`);
  const analyzer = createAnalyzer({ openai: o.openai });
  const service = new VideoService({
    client: o.client,
    pool: o.pool,
    analyzer,
    vectorStore,
    queues: o.queues,
    ingestDir: o.ingestDir,
    temporalUiUrl: 'http://localhost:8233',
    mediaHeartbeatTimeoutMs: 30_000,
  });
  const app = buildApp(service, {
    search: new SearchService({ pool: o.pool, analyzer, vectorStore }),
    deletion: new DeletionService({ client: o.client, pool: o.pool, queues: o.queues, waitMs: o.deleteWaitMs }),
  });
  await app.ready();
  return {
    app,
    close: async () => {
      await app.close();
      await vectorStore.close();
    },
  };
}
