import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import type { SearchResponse } from '../../src/contracts/http';
import { makeTinyClip } from '../support/media';
import { CHROMIUM, launchChromium, waitForExpression } from '../support/browser';
import { startHttpStack, type HttpStack } from '../support/http-stack';

// Issue 30, search that lands on the moment, on the real stack (Temporal, PostgreSQL, ffmpeg,
// LanceDB, the four workers and the API process): a video goes ready, a phrase spoken at second
// S is searched, and both `biblio search` and the dashboard open the player there.
//
// The transcript is written by this test: the transcript step (another part of issue 30) fills
// transcript_segments from the index saga; here the rows are inserted for the ready video, as
// that step would store them (times are seconds of the video).
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const SHOTS = process.env.DASHBOARD_SCREENSHOT_DIR ?? path.join(os.tmpdir(), 'biblio-dashboard-screenshots');
const run = promisify(execFile);
const VIDEO = 'moment-harbour';
/** The phrase is spoken from 12 s to 16 s; S is inside it. */
const S = 13;
const PHRASE = 'quartermaster counts the lanterns';

let stack: HttpStack;
let clips: string;

beforeAll(async () => {
  stack = await startHttpStack('search-moments');
  clips = await mkdtemp(path.join(os.tmpdir(), 'biblio-moment-clips-'));
  await makeTinyClip(path.join(clips, 'harbour night.mp4'), 24);
  await mkdir(SHOTS, { recursive: true });
  const submitted = await run(process.execPath, [CLI, 'submit', path.join(clips, 'harbour night.mp4'), '--id', VIDEO], {
    env: stack.clientEnv,
  });
  expect(submitted.stdout).toContain(`${VIDEO} ready`);
  const segments: [number, number, string][] = [
    [0, 5, 'Welcome aboard, the tide turns in an hour.'],
    [5, 12, 'Mind the ropes on the starboard side.'],
    [12, 16, `At midnight the ${PHRASE} one by one.`],
    [16, 24, 'Then the harbour goes quiet until dawn.'],
  ];
  for (const [seq, [start, end, text]] of segments.entries()) {
    await stack.db.pool.query(
      `INSERT INTO transcript_segments (video_id, seq, start_sec, end_sec, text, language, ts_config)
       VALUES ($1, $2, $3, $4, $5, 'en', 'english')`,
      [VIDEO, seq, start, end, text],
    );
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  if (clips) await rm(clips, { recursive: true, force: true });
});

test('GET /search with a phrase spoken at second S returns the video with a moment containing S', async () => {
  const res = await fetch(`${stack.apiUrl}/search?q=${encodeURIComponent(PHRASE)}`, {
    headers: { authorization: `Bearer ${stack.apiKey}` },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as SearchResponse;
  expect(body.results[0]?.videoId).toBe(VIDEO);
  const moment = body.results[0]!.moments[0]!;
  expect(moment.source).toBe('transcript');
  expect(moment.startSec).toBeLessThanOrEqual(S);
  expect(moment.endSec).toBeGreaterThanOrEqual(S);
  expect(moment.text).toContain(PHRASE);
});

test('biblio search prints the moment and a link that opens the dashboard player at its second', async () => {
  const { stdout } = await run(process.execPath, [CLI, 'search', ...PHRASE.split(' ')], { env: stack.clientEnv });
  expect(stdout).toContain(`0:12–0:16  "At midnight the ${PHRASE} one by one."  ${stack.apiUrl}/dashboard/#video=${VIDEO}&t=12`);
});

describe('dashboard', () => {
  const browserTest = existsSync(CHROMIUM) ? test : test.skip;
  if (!existsSync(CHROMIUM)) console.warn(`search-moments browser test SKIPPED: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
  let browser: Browser;
  beforeAll(async () => {
    if (existsSync(CHROMIUM)) browser = await launchChromium();
  });
  afterAll(async () => browser?.close());

  async function onPage(name: string, fn: (page: Page) => Promise<void>): Promise<void> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.addInitScript(`localStorage.setItem('biblio.apiKey', ${JSON.stringify(stack.apiKey)})`);
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    try {
      await fn(page);
      // The page's CSP allows no inline script: the moments code must live in its own file.
      expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
    } catch (err) {
      await page.screenshot({ path: path.join(SHOTS, `${name}-failed.png`), fullPage: true }).catch(() => undefined);
      throw new Error(
        `${(err as Error).message}\npage console:\n${problems.join('\n') || '(nothing)'}\nscreenshot: ${SHOTS}/${name}-failed.png`,
      );
    } finally {
      await page.close();
    }
  }

  /** currentTime near S within `ms` of the action: playing from 0 would need S - 2 = 11 s to get there. */
  const nearS = `(() => { const v = document.querySelector('#player'); return Boolean(v && v.dataset.videoId === '${VIDEO}' && Math.abs(v.currentTime - ${S}) <= 2); })()`;

  browserTest(
    "clicking a search result's moment opens the player within 2 s of the second it is spoken",
    async () => {
      await onPage('search-moment-click', async (page) => {
        await page.goto(`${stack.apiUrl}/dashboard/`, { waitUntil: 'domcontentloaded' });
        await page.getByLabel('Describe what you look for').fill(PHRASE);
        await page.getByRole('button', { name: 'Search' }).click();
        const moment = page.locator(`#search-results li[data-video-id="${VIDEO}"] a.moment`).first();
        await moment.waitFor({ timeout: 15_000 });
        expect(await moment.getAttribute('href')).toBe(`#video=${VIDEO}&t=12`);
        await moment.click();
        await waitForExpression(page, nearS, 6_000);
        expect(new URL(page.url()).hash).toBe(`#video=${VIDEO}&t=12`);
      });
    },
    120_000,
  );

  browserTest(
    "the CLI's link opens the player at the moment",
    async () => {
      await onPage('search-moment-link', async (page) => {
        await page.goto(`${stack.apiUrl}/dashboard/#video=${VIDEO}&t=12`, { waitUntil: 'domcontentloaded' });
        await waitForExpression(page, nearS, 8_000);
      });
    },
    120_000,
  );
});
