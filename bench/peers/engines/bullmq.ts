// BullMQ against a redis-server of its own on a free loopback port (never the shared Redis),
// append-only file on, run once with `appendfsync always` (each write fsynced before the reply,
// the durability the other engines give) and once with `everysec` (Redis's default: up to a
// second of acknowledged writes lost on power loss or a kernel crash).
//
// Pipeline shape: a 3-job chain built as one nested flow (step3 ← step2 ← step1) by FlowProducer.
// BullMQ runs a child before its parent, so nesting gives the order, and the whole chain is
// written atomically at submission. A parent with three children would run the children in
// parallel — not a pipeline — and adding the next job from inside a finished one is not atomic
// (a crash between the completion and the add would lose the rest of the chain).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { type Child, freePort, portOpen, startChild, startNodeChild, stopChildren, waitFor } from '../children';
import { childRole, type Engine } from '../engine';
import { packageVersion } from '../versions';

function bullmq(fsync: 'always' | 'everysec'): Engine {
  return {
    id: `bullmq-${fsync}`,
    clientKind: 'bullmq',
    variants: [{ label: `BullMQ flow, appendfsync ${fsync}`, client: {} }],
    durability: `own \`redis-server\`: \`appendonly yes\`, \`appendfsync ${fsync}\`, no RDB snapshots (\`save ""\`), read back with CONFIG GET`,
    async versions() {
      const redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? '?';
      return `bullmq ${packageVersion('bullmq')} (ioredis ${packageVersion('ioredis')}); redis-server ${redis}`;
    },
    async start(ctx) {
      const port = await freePort();
      const kids: Child[] = [];
      try {
        const server = startChild(
          'redis-server',
          'redis-server',
          [
            '--port',
            String(port),
            '--bind',
            '127.0.0.1',
            '--protected-mode',
            'yes',
            '--dir',
            ctx.dir,
            '--appendonly',
            'yes',
            '--appendfsync',
            fsync,
            '--save',
            '',
            '--daemonize',
            'no',
            '--loglevel',
            'warning',
          ],
          { logFile: path.join(ctx.dir, 'redis.log') },
        );
        kids.push(server);
        await waitFor('redis-server', 15_000, () => portOpen(port));
        const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
        await probe.connect();
        const got = (await probe.config('GET', 'appendfsync')) as string[];
        const aof = (await probe.config('GET', 'appendonly')) as string[];
        await probe.quit();
        if (got[1] !== fsync || aof[1] !== 'yes') throw new Error(`redis-server runs with appendonly ${aof[1]}, appendfsync ${got[1]}`);
        const worker = startNodeChild('bullmq-worker', 'engines/bullmq-worker.ts', [], {
          env: { REDIS_PORT: String(port), QUEUE: 'pipeline', BURN_THREADS: String(ctx.cpuConcurrency) },
          logFile: path.join(ctx.dir, 'worker.log'),
        });
        kids.push(worker);
        await worker.waitForLine(/^READY/, 60_000);
        return {
          roles: [
            childRole('server', `\`redis-server\` (appendfsync ${fsync})`, server),
            childRole('worker', 'Node BullMQ Worker (the three step jobs, concurrency 10)', worker),
          ],
          stepCpuMs: () => worker.burnMs,
          client: { port, queue: 'pipeline' },
          stop: () => stopChildren(kids),
        };
      } catch (err) {
        await stopChildren(kids);
        throw err;
      }
    },
  };
}

export const bullmqAlways = bullmq('always');
export const bullmqEverysec = bullmq('everysec');
