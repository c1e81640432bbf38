import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'pg';
import { createAnalyzer } from '../../src/adapters/analyzer';
import { LanceDbVectorStore } from '../../src/adapters/vector-store/lancedb-store';
import { buildApp } from '../../src/api/app';
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
}): Promise<TestApi> {
  const vectorStore = await LanceDbVectorStore.open(`${o.dataDir}/lancedb`);
  const service = new VideoService({
    client: o.client,
    pool: o.pool,
    analyzer: createAnalyzer({ openai: o.openai }),
    vectorStore,
    queues: o.queues,
    ingestDir: o.ingestDir,
    temporalUiUrl: 'http://localhost:8233',
    mediaHeartbeatTimeoutMs: 30_000,
  });
  const app = buildApp(service, { people: { pool: o.pool } });
  await app.ready();
  return {
    app,
    close: async () => {
      await app.close();
      await vectorStore.close();
    },
  };
}
