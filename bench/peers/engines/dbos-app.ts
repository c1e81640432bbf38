// The DBOS application process. DBOS Transact is a library: the process that starts a workflow
// runs it and checkpoints every step in PostgreSQL. A small HTTP server stands in for the app's
// API so the client is a separate process, as with the other engines.
import http from 'node:http';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { configureBurnThreads, type PipelineInput, step1, step2, step3 } from '../pipeline';
import { env, exitWithParent, ready } from '../lifecycle';

async function pipelineFn(input: PipelineInput): Promise<number> {
  const x = await DBOS.runStep(async () => step1(input.n), { name: 'step1' });
  const y = await DBOS.runStep(() => step2(x, input.work), { name: 'step2' });
  return DBOS.runStep(async () => step3(y), { name: 'step3' });
}
const pipeline = DBOS.registerWorkflow(pipelineFn, { name: 'pipeline' });

async function main() {
  configureBurnThreads(Number(env('BURN_THREADS')), true);
  DBOS.setConfig({ name: 'biblio-bench', systemDatabaseUrl: env('DBOS_DATABASE_URL'), logLevel: 'warn' });
  await DBOS.launch();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        try {
          const id = decodeURIComponent((req.url ?? '').replace(/^\/run\//, ''));
          const input = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PipelineInput;
          const handle = await DBOS.startWorkflow(pipeline, { workflowID: id })(input);
          const result = await handle.getResult();
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
        } catch (err) {
          res.writeHead(500).end(String(err));
        }
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(env('PORT')), '127.0.0.1', resolve);
  });
  exitWithParent(async () => {
    server.close();
    await DBOS.shutdown();
  });
  ready();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
