// DBOS Transact on the machine's PostgreSQL (127.0.0.1:5432): a database of our own, created
// fresh and dropped afterwards. The server is shared with other work, so its CPU is counted from
// the backends connected to our database, plus the server's background processes (see `what`).
import path from 'node:path';
import { Client } from 'pg';
import { type Child, freePort, startNodeChild, stopChildren } from '../children';
import { childRole, type Engine } from '../engine';
import { selectedTicks, type Proc } from '../stats';
import { packageVersion } from '../versions';

const DB = 'biblio_bench_dbos';
const ADMIN_URL = process.env.PEERS_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbUrl = () => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${DB}`;
  return u.toString();
};

async function admin<T>(work: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** A client backend's process title: "postgres: <cluster>: <user> <db> <host>(<port>) <state>". */
const backendOf = (p: Proc) => p.cmdline.startsWith('postgres:') && new RegExp(`\\s${DB}\\s`).test(`${p.cmdline} `);
/** Background processes of the server: they work for every database on it, ours included. */
const AUX =
  /^postgres: .*(checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|stats collector|archiver)\s*$/;

let settings = '';

export const dbos: Engine = {
  id: 'dbos',
  clientKind: 'dbos',
  variants: [{ label: 'DBOS Transact', client: {} }],
  get durability() {
    return `the machine's PostgreSQL: ${settings || '(settings read at start)'} — every step's checkpoint is a committed, flushed transaction`;
  },
  async versions() {
    const server = await admin(async (c) => (await c.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(' on ')[0]!);
    return `@dbos-inc/dbos-sdk ${packageVersion('@dbos-inc/dbos-sdk')}; ${server}`;
  },
  async start(ctx) {
    settings = await admin(async (c) => {
      const show = async (name: string) => (await c.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name];
      await c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${DB}`);
      return `\`fsync=${await show('fsync')}\`, \`synchronous_commit=${await show('synchronous_commit')}\`, \`wal_sync_method=${await show('wal_sync_method')}\``;
    });
    const port = await freePort();
    const kids: Child[] = [];
    const dropDb = () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)).then(() => undefined);
    try {
      const app = startNodeChild('dbos-app', 'engines/dbos-app.ts', [], {
        env: { PORT: String(port), DBOS_DATABASE_URL: dbUrl(), BURN_THREADS: String(ctx.cpuConcurrency) },
        logFile: path.join(ctx.dir, 'dbos-app.log'),
      });
      kids.push(app);
      await app.waitForLine(/^READY/, 60_000);
      return {
        roles: [
          {
            name: 'server',
            what: `PostgreSQL backends connected to \`${DB}\` (one process per connection of DBOS's pool); connections that closed inside the window are not counted`,
            ticks: (b, a) => selectedTicks(backendOf, b, a),
          },
          {
            name: 'server (shared)',
            what: 'PostgreSQL background processes (WAL writer, checkpointer, background writer, launchers): they serve every database on the shared server, so other sessions’ writes are in this figure too',
            ticks: (b, a) => selectedTicks((p) => AUX.test(p.cmdline), b, a),
          },
          childRole('worker', 'Node app process: DBOS library running the workflows in-process, behind a small HTTP API', app),
        ],
        stepCpuMs: () => app.burnMs,
        client: { url: `http://127.0.0.1:${port}` },
        stop: async () => {
          await stopChildren(kids);
          await dropDb();
        },
      };
    } catch (err) {
      await stopChildren(kids);
      await dropDb();
      throw err;
    }
  },
};
