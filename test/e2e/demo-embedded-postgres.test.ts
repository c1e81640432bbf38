import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, listening } from '../../src/db/embedded';
import { temporalCliPath } from '../support/temporal';

// "No PostgreSQL needed for the demo": with DATABASE_URL unset and nothing at the probe address
// (a closed port here, so the machine's own server on 5432 is neither used nor disturbed), the
// demo starts real PostgreSQL 16 from npm in its data dir and completes the pipeline on it.
const DEMO = path.resolve(__dirname, '..', '..', 'dist', 'demo', 'main.js');

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-embedded-pg-'));
  // As root, PostgreSQL runs as user postgres, which must be able to enter the data dir.
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function postmastersOf(dir: string): string {
  try {
    return execFileSync('pgrep', ['-f', `postgres -D ${dir}`], { encoding: 'utf8' }).trim();
  } catch {
    return ''; // pgrep exits 1 when nothing matches
  }
}

test('the demo completes the pipeline on embedded PostgreSQL when no server is reachable, and stops it afterwards', async () => {
  const closedPort = await freePort();
  expect(await listening(`127.0.0.1:${closedPort}`)).toBe(false);
  const run = spawn(process.execPath, [DEMO, '--exit'], {
    env: {
      ...process.env,
      TEMPORAL_CLI: temporalCliPath(),
      BIBLIO_DATA_DIR: dataDir,
      DATABASE_URL: '',
      BIBLIO_PG_PROBE_ADDRESS: `127.0.0.1:${closedPort}`,
      DEMO_TEMPORAL_PORT: String(await freePort()),
      DEMO_UI_PORT: String(await freePort()),
      API_PORT: String(await freePort()),
      FFMPEG_THREADS: '1',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  run.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  run.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
  const context = `demo output:\n${output}`;

  expect({ code, context }).toEqual({ code: 0, context });
  const port = /embedded PostgreSQL 16 on 127\.0\.0\.1:(\d+)/.exec(output)?.[1];
  expect({ port, context }).toEqual({ port: expect.stringMatching(/^\d+$/), context });
  expect(output).toContain(`nothing listens on 127.0.0.1:${closedPort}`);
  expect(output).toMatch(/migrations\s+applied /);
  expect(output).toMatch(/markSearchable\s+task queue 'index'/);
  expect(output).toMatch(/search\s+.*this video at score/);
  // Stopped last, cleanly: the port is closed and no postmaster of this data dir remains.
  expect(await listening(`127.0.0.1:${port}`)).toBe(false);
  expect(postmastersOf(dataDir)).toBe('');
}, 600_000);
