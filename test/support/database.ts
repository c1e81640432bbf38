import { randomBytes } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { createPool, migrate } from '../../src/db/database';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** Where test databases are created: TEST_DATABASE_URL, else the local server's `postgres` database. */
function adminUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/** A fresh database per test file, migrated unless asked not to (the migration CLI's test); never the demo's. */
export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `biblio_test_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl() });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${adminUrl()} (${(err as Error).message}): start it or set TEST_DATABASE_URL`);
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  if (opts.migrated !== false) await migrate(url.toString());
  const pool = createPool(url.toString());
  return {
    url: url.toString(),
    pool,
    drop: async () => {
      await pool.end();
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
