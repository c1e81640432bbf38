import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM, launchChromium } from '../support/browser';
import { portTaken } from '../../src/demo/processes';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { temporalCliPath } from '../support/temporal';

// README command 1, end to end: the demo as a user runs it (built entry, real dev server with
// Web UI, four worker processes, API), the run seen in the Web UI in a real browser, Ctrl-C.
const DEMO = path.resolve(__dirname, '..', '..', 'dist', 'demo', 'main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

let db: TestDatabase;
let dataDir: string;
let demo: ChildProcess;
let output = '';
let ports: { temporal: number; ui: number; api: number };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-demo-'));
  db = await createTestDatabase();
  ports = { temporal: await freePort(), ui: await freePort(), api: await freePort() };
  demo = spawn(process.execPath, [DEMO], {
    env: {
      ...process.env,
      TEMPORAL_CLI: temporalCliPath(),
      BIBLIO_DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      DEMO_TEMPORAL_PORT: String(ports.temporal),
      DEMO_UI_PORT: String(ports.ui),
      API_PORT: String(ports.api),
      FFMPEG_THREADS: '1',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  demo.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  demo.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo not up in 180 s:\n${output}`)), 180_000);
    const check = () => {
      if (output.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    };
    demo.stdout?.on('data', check);
    demo.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited with ${code} before it was up:\n${output}`));
    });
  });
}, 200_000);

afterAll(async () => {
  if (demo && demo.exitCode === null) demo.kill('SIGKILL');
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('shows the three steps ran on three task queues and ends with the result and the Web UI link', () => {
  // A short clip's whole media step is one task (plan, single pass, HLS, analysis inputs, storyboard).
  expect(output).toMatch(/prepareMedia\s+task queue 'media'\s+ran by media@/);
  expect(output).toMatch(/analyze\s+task queue 'ai'\s+ran by ai@/);
  expect(output).toMatch(/writeIndexRow\s+task queue 'index'\s+ran by index@/);
  expect(output).toMatch(/upsertVector\s+task queue 'index'\s+ran by index@/);
  expect(output).toMatch(/markSearchable\s+task queue 'index'\s+ran by index@/);
  expect(output).toMatch(/rendition\s+\S+rendition\.mp4 \(1280x720/);
  expect(output).toMatch(/search\s+.*this video at score/);
  expect(output).toMatch(
    new RegExp(`Temporal Web UI: http://localhost:${ports.ui}/namespaces/default/workflows/video-demo-\\d+-[0-9a-f]{6}/[0-9a-f-]+/history`),
  );
});

const browserTest = existsSync(CHROMIUM) ? test : test.skip;
if (!existsSync(CHROMIUM))
  console.warn(`Web UI browser check SKIPPED: no Chromium at ${CHROMIUM} (npm test installs it as root; or set CHROMIUM_PATH)`);

browserTest('the run is visible as Completed in the Temporal Web UI', async () => {
  const link = /Temporal Web UI: (\S+)/.exec(output)?.[1];
  expect(link).toBeDefined();
  const workflowId = /workflows\/(video-demo-\d+-[0-9a-f]{6})\//.exec(link!)?.[1];
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(link!, { waitUntil: 'domcontentloaded' });
    await page.getByText(workflowId!, { exact: false }).first().waitFor({ timeout: 30_000 });
    await page.getByText('Completed', { exact: false }).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: process.env.WEB_UI_SCREENSHOT ?? path.join(dataDir, 'web-ui.png'), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('Ctrl-C stops API, workers and the Temporal server and exits 0', async () => {
  const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  demo.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output).toContain('stopping: API → workers → Temporal server');
  expect(output).toContain('stopped.');
  expect(await portTaken(ports.api)).toBe(false);
  expect(await portTaken(ports.temporal)).toBe(false);
  expect(await portTaken(ports.ui)).toBe(false);
});

test('a taken port gets a clear message naming the port and the variable, not a stack trace', async () => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const taken = (blocker.address() as net.AddressInfo).port;
  try {
    const run = spawn(process.execPath, [DEMO], {
      env: {
        ...process.env,
        TEMPORAL_CLI: temporalCliPath(),
        BIBLIO_DATA_DIR: dataDir,
        API_PORT: String(taken),
        DEMO_TEMPORAL_PORT: String(await freePort()),
        DEMO_UI_PORT: String(await freePort()),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    run.stdout?.on('data', (c: Buffer) => (text += c.toString()));
    run.stderr?.on('data', (c: Buffer) => (text += c.toString()));
    const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
    expect(code).toBe(1);
    expect(text).toContain(`port ${taken} (API) is taken`);
    expect(text).toContain('API_PORT');
    expect(text).not.toMatch(/\n\s+at /);
  } finally {
    blocker.close();
  }
});
