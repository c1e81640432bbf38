// Restate: the single-node server the npm package ships (all roles in one process, its own
// RocksDB log and partition store in a temp dir) and the service endpoint in a Node process,
// registered through the admin API. The client calls the ingress over HTTP.
import { createRequire } from 'node:module';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { type Child, freePort, startChild, startNodeChild, stopChildren, waitFor } from '../children';
import { childRole, type Engine } from '../engine';
import { packageVersion } from '../versions';

function serverBinary(): string {
  // The wrapper in node_modules/.bin is a Node process that spawns this binary; run the binary
  // itself so the server's CPU is one process, not a Node parent and its child.
  return createRequire(__filename).resolve(`@restatedev/restate-server-${process.platform}-${process.arch}/bin/restate-server`);
}

export const restate: Engine = {
  id: 'restate',
  clientKind: 'restate',
  variants: [{ label: 'Restate', client: {} }],
  durability:
    'single node on its defaults: every journal entry appended to the local log-server (replicated loglet, replication 1) with the RocksDB WAL fsynced (`rocksdb-disable-wal-fsync = false`) before it is acknowledged; partition store in RocksDB',
  async versions() {
    const server = execFileSync(serverBinary(), ['--version'], { encoding: 'utf8' }).trim();
    return `${server}; @restatedev/restate-sdk ${packageVersion('@restatedev/restate-sdk')}`;
  },
  async start(ctx) {
    const [ingress, admin, fabric, endpoint] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const kids: Child[] = [];
    try {
      kids.push(
        startChild(
          'restate-server',
          serverBinary(),
          ['--listen-mode', 'tcp', '--no-logo', '--node-name', 'bench', '--base-dir', path.join(ctx.dir, 'restate-data')],
          {
            env: {
              RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
              RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
              RESTATE_BIND_ADDRESS: `127.0.0.1:${fabric}`,
              RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${fabric}/`,
              RESTATE_DISABLE_TELEMETRY: 'true',
              RESTATE_LOG_FILTER: 'warn',
              RESTATE_LOG_DISABLE_ANSI_CODES: 'true',
            },
            logFile: path.join(ctx.dir, 'restate-server.log'),
          },
        ),
      );
      await waitFor('restate-server admin API', 30_000, async () =>
        (await fetch(`http://127.0.0.1:${admin}/health`)).ok ? true : undefined,
      );
      const service = startNodeChild('restate-service', 'engines/restate-service.ts', [], {
        env: { PORT: String(endpoint), BURN_THREADS: String(ctx.cpuConcurrency), RESTATE_LOGGING: 'WARN' },
        logFile: path.join(ctx.dir, 'service.log'),
      });
      kids.push(service);
      await service.waitForLine(/^READY/, 60_000);
      const res = await fetch(`http://127.0.0.1:${admin}/deployments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ uri: `http://127.0.0.1:${endpoint}` }),
      });
      if (!res.ok) throw new Error(`registering the Restate deployment: ${res.status} ${await res.text()}`);
      return {
        roles: [
          childRole('server', '`restate-server` (ingress, admin, worker, log-server, metadata — one Rust process)', kids[0]!),
          childRole('worker', 'Node service endpoint (HTTP/2, the 3 handlers’ steps via `ctx.run`)', service),
        ],
        stepCpuMs: () => service.burnMs,
        client: { url: `http://127.0.0.1:${ingress}` },
        stop: () => stopChildren(kids),
      };
    } catch (err) {
      await stopChildren(kids);
      throw err;
    }
  },
};
