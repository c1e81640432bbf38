// The longest gap between one activity's heartbeats as the Temporal server records them, and
// between a worker's lease renewals as PostgreSQL's clock sees them, on this 2-core machine
// under load: the activity runs a 1280x720 encode (heartbeating on its progress lines and on a
// 1 s ticker, the media worker's throttle), a second 1280x720 encode and a CPU hog run beside it.
// What a heartbeat timeout or a worker lease must tolerate without false alarms.
// Run under the heavy lock: `npx tsx bench/heartbeat-gap.ts` (BENCH_SEC, default 60).
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import { createTestDatabase } from '../test/support/database';
import { startTemporal } from '../test/support/temporal';

const SECONDS = Number(process.env.BENCH_SEC ?? 60);
const QUEUE = `hb-gap-${process.pid}`;
const ENCODE_720P = [
  ...['-hide_banner', '-nostats', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30`],
  ...['-c:v', 'libx264', '-preset', 'veryfast', '-f', 'null', '-'],
];

function maxGap(times: number[]): { maxMs: number; p99Ms: number; n: number } {
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  const sorted = [...gaps].sort((a, b) => a - b);
  return { maxMs: Math.round(sorted.at(-1) ?? NaN), p99Ms: Math.round(sorted[Math.floor(sorted.length * 0.99)] ?? NaN), n: times.length };
}

function hog(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  const env = await startTemporal();
  const db = await createTestDatabase({ migrated: false });
  await db.pool.query('CREATE TABLE renewals (at timestamptz NOT NULL)');
  const load: ChildProcess[] = [];
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: QUEUE,
    workflowsPath: path.join(__dirname, 'heartbeat-gap-workflow.ts'),
    // The media worker's throttle: every heartbeat reaches the server at most once a second.
    maxHeartbeatThrottleInterval: '1s',
    activities: {
      async encodeWhileBeating(seconds: number): Promise<void> {
        const ctx = Context.current();
        const ff = spawn('ffmpeg', [...ENCODE_720P.slice(0, 6), '-t', String(seconds), ...ENCODE_720P.slice(6), '-progress', 'pipe:1'], {
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        let line = 0;
        ff.stdout.on('data', () => ctx.heartbeat({ line: ++line }));
        const ticker = setInterval(() => ctx.heartbeat({ line }), 1_000);
        const end = setTimeout(() => ff.kill('SIGKILL'), seconds * 1000);
        await new Promise((resolve) => ff.once('exit', resolve));
        clearInterval(ticker);
        clearTimeout(end);
      },
    },
  });
  const running = worker.run();
  // A lease renewed from the worker's event loop, stamped with the database's clock.
  const renew = setInterval(() => void db.pool.query('INSERT INTO renewals VALUES (clock_timestamp())').catch(() => undefined), 1_000);
  const seen: number[] = [];
  try {
    load.push(
      spawn('ffmpeg', [...ENCODE_720P.slice(0, 6), '-t', String(SECONDS + 5), ...ENCODE_720P.slice(6)], { stdio: 'ignore' }),
      hog(),
    );
    const handle = await env.client.workflow.start('heartbeatGap', {
      taskQueue: QUEUE,
      workflowId: `hb-gap-${Date.now()}`,
      args: [SECONDS],
    });
    const done = handle.result().then(() => true);
    let finished = false;
    void done.then(() => (finished = true));
    const began = Date.now();
    while (!finished && Date.now() - began < (SECONDS + 30) * 1000) {
      const d = await handle.describe();
      const at = d.raw.pendingActivities?.[0]?.lastHeartbeatTime;
      const ms = at ? Number(at.seconds) * 1000 + Math.round((at.nanos ?? 0) / 1e6) : undefined;
      if (ms && ms !== seen.at(-1)) seen.push(ms);
      await new Promise((r) => setTimeout(r, 100));
    }
    await done;
  } finally {
    clearInterval(renew);
    for (const p of load) p.kill('SIGKILL');
    worker.shutdown();
    await running;
  }
  const renewals = (await db.pool.query<{ ms: string }>('SELECT extract(epoch FROM at) * 1000 AS ms FROM renewals ORDER BY at')).rows.map(
    (r) => Number(r.ms),
  );
  console.log(
    JSON.stringify({
      seconds: SECONDS,
      load: os.loadavg()[0]!.toFixed(2),
      serverHeartbeatGap: maxGap(seen),
      dbLeaseRenewalGap: maxGap(renewals),
    }),
  );
  await db.drop();
  await env.teardown();
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
