// Temporal as Biblio runs it (src/demo/main.ts): the CLI's dev server with its history in a SQLite
// file in WAL mode and the Web UI on, and the worker in a process of its own.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { type Child, startChild, startNodeChild, freePort, portOpen, stopChildren, waitFor, ROOT } from '../children';
import { childRole, type Engine } from '../engine';
import { packageVersion } from '../versions';

function temporalCli(): string {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  return execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-temporal-cli.sh')], { encoding: 'utf8' }).trim();
}

export const temporal: Engine = {
  id: 'temporal',
  clientKind: 'temporal',
  variants: [
    { label: 'Temporal dev server (activities)', client: { workflow: 'pipeline' } },
    // Local activities: the cheapest way to run short steps on Temporal; trivial scenario only
    // (with a 2-s step the orchestration difference is the same and the run costs another minute).
    { label: 'Temporal dev server (local activities)', client: { workflow: 'pipelineLocal' }, scenarios: ['trivial'] },
  ],
  durability:
    'SQLite file, `journal_mode=wal`, `synchronous=normal` (the flags of `src/demo/main.ts`): a commit survives a crash of the server process, the last ones may be lost on power loss',
  async versions() {
    const cli = execFileSync(temporalCli(), ['--version'], { encoding: 'utf8' }).trim();
    return `CLI ${cli.replace(/^temporal version /, '')}; @temporalio/* ${packageVersion('@temporalio/worker')}`;
  },
  async start(ctx) {
    const [port, uiPort] = [await freePort(), await freePort()];
    const server = startChild(
      'temporal',
      temporalCli(),
      [
        'server',
        'start-dev',
        '--db-filename',
        path.join(ctx.dir, 'dev.sqlite'),
        '--sqlite-pragma',
        'journal_mode=wal',
        '--sqlite-pragma',
        'synchronous=normal',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--ui-ip',
        '127.0.0.1',
        '--ui-port',
        String(uiPort),
        '--log-level',
        'warn',
        // Loopback only: no periodic call-home for the latest server version (as the SDK's own
        // test server is started); it changes nothing measurable.
        '--dynamic-config-value',
        'frontend.enableServerVersionCheck=false',
      ],
      { logFile: path.join(ctx.dir, 'temporal.log') },
    );
    const kids: Child[] = [server];
    try {
      await waitFor('the Temporal dev server', 30_000, () => portOpen(port));
      const worker = startNodeChild('temporal-worker', 'engines/temporal-worker.ts', [], {
        env: { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TASK_QUEUE: 'peers', BURN_THREADS: String(ctx.cpuConcurrency) },
        logFile: path.join(ctx.dir, 'worker.log'),
      });
      kids.push(worker);
      await worker.waitForLine(/^READY/, 120_000); // bundles the workflow code first (webpack)
      return {
        roles: [
          childRole('server', '`temporal server start-dev` (frontend, history, matching, the Web UI, SQLite — one Go process)', server),
          childRole('worker', 'Node worker (workflows + activities, SDK defaults)', worker),
        ],
        stepCpuMs: () => worker.burnMs,
        client: { address: `127.0.0.1:${port}`, taskQueue: 'peers' },
        stop: () => stopChildren(kids),
      };
    } catch (err) {
      await stopChildren(kids);
      throw err;
    }
  },
};
