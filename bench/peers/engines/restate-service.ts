// The Restate service endpoint: one handler, three journaled steps (ctx.run), served over HTTP/2
// on loopback; restate-server calls it once per invocation and replays the journal on retries.
import './restate-polyfill';
import http2 from 'node:http2';
import * as restate from '@restatedev/restate-sdk';
import { configureBurnThreads, type PipelineInput, step1, step2, step3 } from '../pipeline';
import { env, exitWithParent, ready } from '../lifecycle';

const pipeline = restate.service({
  name: 'Pipeline',
  handlers: {
    run: async (ctx: restate.Context, input: PipelineInput): Promise<number> => {
      const x = await ctx.run('step1', async () => step1(input.n));
      const y = await ctx.run('step2', () => step2(x, input.work));
      return ctx.run('step3', async () => step3(y));
    },
  },
});

async function main() {
  configureBurnThreads(Number(env('BURN_THREADS')), true);
  const server = http2.createServer(restate.endpoint().bind(pipeline).http2Handler());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(env('PORT')), '127.0.0.1', resolve);
  });
  exitWithParent(() => new Promise<void>((resolve) => server.close(() => resolve())));
  ready();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
