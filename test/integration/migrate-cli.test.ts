import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_DIR, redactUrl } from '../../src/db/database';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { freePort } from '../support/http-stack';

// `npm run migrate` as an operator runs it: the compiled entry package.json names, against the
// local PostgreSQL, with DATABASE_URL as its only input.
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'db', 'migrate-cli.js');
const MIGRATIONS = readdirSync(MIGRATIONS_DIR)
  .filter((file) => file.endsWith('.sql'))
  .map((file) => file.replace(/\.sql$/, ''))
  .sort();

let db: TestDatabase;
const created: string[] = [];

function runCli(databaseUrl: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\``);
  const child = spawn(process.execPath, [CLI], { env: { ...process.env, DATABASE_URL: databaseUrl }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function withDatabase(url: string, name: string): string {
  const other = new URL(url);
  other.pathname = `/${name}`;
  return other.toString();
}

beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
});

afterAll(async () => {
  for (const name of created) await db.pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await db?.drop();
});

test('creates a missing database, applies every migration and names each; a second run applies none', async () => {
  const name = `${new URL(db.url).pathname.slice(1)}_new`;
  created.push(name);
  const url = withDatabase(db.url, name);

  const first = await runCli(url);
  expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: '' });
  expect(first.stdout).toContain(`applied ${MIGRATIONS.length} migrations`);
  for (const migration of MIGRATIONS) expect(first.stdout).toContain(`  ${migration}\n`);

  const again = await runCli(url);
  expect({ code: again.code, stdout: again.stdout }).toEqual({ code: 0, stdout: `${redactUrl(url)} is up to date\n` });
});

test('a migration that fails exits 1 naming the database and the cause; the next run, after the fix, applies them all', async () => {
  // A table the first migration creates, already there: its CREATE TABLE fails.
  await db.pool.query('CREATE TABLE videos (id text)');
  const failed = await runCli(db.url);
  expect(failed.code).toBe(1);
  expect(failed.stderr).toBe(
    `[migrate] migrating ${redactUrl(db.url)} failed: relation "videos" already exists. Fix the cause and run \`npm run migrate\` again.\n`,
  );
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM pgmigrations');
  expect(Number(rows[0]?.n)).toBe(0);

  await db.pool.query('DROP TABLE videos');
  const fixed = await runCli(db.url);
  expect(fixed.code).toBe(0);
  const applied = await db.pool.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY name');
  expect(applied.rows.map((r) => r.name)).toEqual(MIGRATIONS);
});

test('an unreachable server exits 1 with what to do, and no password in the message', async () => {
  const url = `postgres://biblio:s3cret@127.0.0.1:${await freePort()}/biblio`;
  const result = await runCli(url);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(
    /^\[migrate\] PostgreSQL is not reachable at postgres:\/\/biblio:\*\*\*@127\.0\.0\.1:\d+\/biblio .*set DATABASE_URL=/,
  );
  expect(result.stderr).not.toContain('s3cret');
});
