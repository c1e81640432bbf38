// The Temporal worker process: workflows and activities of the pipeline on one task queue, SDK
// defaults otherwise (sticky cache, pollers, slots), as a Biblio worker process runs them.
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { configureBurnThreads } from '../pipeline';
import { env, exitWithParent, ready } from '../lifecycle';
import * as activities from './temporal-activities';

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  configureBurnThreads(Number(env('BURN_THREADS')), true);
  const connection = await NativeConnection.connect({ address: env('TEMPORAL_ADDRESS') });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: env('TASK_QUEUE'),
    workflowsPath: path.join(__dirname, 'temporal-workflows.ts'),
    activities,
  });
  const running = worker.run();
  exitWithParent(async () => {
    worker.shutdown();
    await running;
    await connection.close();
  });
  ready();
  await running;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
