// The BullMQ worker process: one queue, one Worker taking all three step jobs. A step reads its
// input from the job below it in the flow (its child), whose return value BullMQ stored.
import { type Job, Worker } from 'bullmq';
import { configureBurnThreads, step1, step2, step3 } from '../pipeline';
import { env, exitWithParent, ready } from '../lifecycle';

async function previous(job: Job): Promise<number> {
  const values = Object.values(await job.getChildrenValues<number>());
  if (values.length !== 1) throw new Error(`${job.name} expects one finished child, found ${values.length}`);
  return values[0]!;
}

async function main() {
  configureBurnThreads(Number(env('BURN_THREADS')), true);
  const worker = new Worker(
    env('QUEUE'),
    async (job: Job) => {
      switch (job.name) {
        case 'step1':
          return step1((job.data as { n: number }).n);
        case 'step2':
          return step2(await previous(job), (job.data as { work: number }).work);
        case 'step3':
          return step3(await previous(job));
        default:
          throw new Error(`unknown step ${job.name}`);
      }
    },
    // At least the client's concurrency: the client alone decides how many pipelines are in flight.
    { connection: { host: '127.0.0.1', port: Number(env('REDIS_PORT')) }, concurrency: 10 },
  );
  await worker.waitUntilReady();
  exitWithParent(() => worker.close());
  ready();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
