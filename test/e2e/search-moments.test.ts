import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import type { SearchMoment, SearchResponse } from '../../src/contracts/http';
import { TranscriptsRepo } from '../../src/db/transcripts-repo';
import { makeTinyClip } from '../support/media';
import { CHROMIUM, launchChromium, waitForExpression } from '../support/browser';
import { faultProvider } from '../support/fault-provider';
import { startHttpStack, type HttpStack } from '../support/http-stack';
import { startOpenAiFaultServer, type OpenAiFaultServer } from '../support/openai-fault-server';

// Search that lands on the moment, on the real stack (Temporal, PostgreSQL, ffmpeg, LanceDB, the
// four workers and the API process): videos go ready, then a phrase spoken at second S, and a
// colour shown from second 10 to 16, are searched; `biblio search` and the dashboard open the
// player there.
//
// The AI provider is the fault server (the only double): the product's default offline analyzer
// sees no picture, and the fault server's "vision" names each keyframe's dominant colour, so what
// a frame shows is known. The spoken script is this test's: the fault server hears one fixed
// sentence in any audio, so the harbour video's transcript is replaced with the script below, as
// the index saga stores one (TranscriptsRepo.replace; times are seconds of the video).
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const SHOTS = process.env.DASHBOARD_SCREENSHOT_DIR ?? path.join(os.tmpdir(), 'biblio-dashboard-screenshots');
const run = promisify(execFile);
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
const VIDEO = 'moment-harbour';
/** The phrase is spoken from 12 s to 16 s; S is inside it. */
const S = 13;
const PHRASE = 'quartermaster counts the lanterns';
/** Blue from 0 s, red from 10 s to 16 s, green to the end (20 s): the keyframe picker finds the cuts. */
const COLOURS = 'colour-shots';
const RED = { from: 10, to: 16 };

let stack: HttpStack;
let fault: OpenAiFaultServer;
let clips: string;

/** Three flat colours cut together, no audio (nothing to transcribe: what is shown is all there is). */
async function makeColourClip(out: string): Promise<void> {
  const part = (c: string, d: number) => ['-f', 'lavfi', '-i', `color=c=${c}:s=320x240:r=25:d=${d}`];
  await run(FFMPEG, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...part('blue', RED.from),
    ...part('red', RED.to - RED.from),
    ...part('green', 4),
    '-filter_complex',
    '[0:v][1:v][2:v]concat=n=3:v=1:a=0[v]',
    '-map',
    '[v]',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    out,
  ]);
}

async function search(q: string): Promise<SearchResponse> {
  const res = await fetch(`${stack.apiUrl}/search?q=${encodeURIComponent(q)}`, { headers: { authorization: `Bearer ${stack.apiKey}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as SearchResponse;
}

beforeAll(async () => {
  fault = await startOpenAiFaultServer();
  stack = await startHttpStack('search-moments', { env: faultProvider(fault).env });
  clips = await mkdtemp(path.join(os.tmpdir(), 'biblio-moment-clips-'));
  await makeTinyClip(path.join(clips, 'harbour night.mp4'), 24);
  await makeColourClip(path.join(clips, 'holiday.mp4'));
  await mkdir(SHOTS, { recursive: true });
  const submit = (file: string, id: string) =>
    run(process.execPath, [CLI, 'submit', path.join(clips, file), '--id', id], { env: stack.clientEnv });
  const [harbour, colours] = await Promise.all([submit('harbour night.mp4', VIDEO), submit('holiday.mp4', COLOURS)]);
  expect(harbour.stdout).toContain(`${VIDEO} ready`);
  expect(colours.stdout).toContain(`${COLOURS} ready`);
  await new TranscriptsRepo(stack.db.pool).replace(
    stack.db.pool,
    VIDEO,
    [
      { startSec: 0, endSec: 5, text: 'Welcome aboard, the tide turns in an hour.' },
      { startSec: 5, endSec: 12, text: 'Mind the ropes on the starboard side.' },
      { startSec: 12, endSec: 16, text: `At midnight the ${PHRASE} one by one.` },
      { startSec: 16, endSec: 24, text: 'Then the harbour goes quiet until dawn.' },
    ],
    'en',
  );
}, 300_000);

afterAll(async () => {
  await stack?.stop();
  await fault?.close();
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

test('GET /search for a colour shown from 10 s to 16 s returns the video with a keyframe moment there, found by what is shown', async () => {
  const body = await search('red');
  const hit = body.results[0]!;
  expect(hit.videoId).toBe(COLOURS);
  // Neither its title, summary nor tags say "red": the text half found it by a keyframe's description.
  expect(hit.ranks.text).toBe(1);
  const shown = hit.moments.filter((m) => m.source === 'keyframe');
  expect(shown.length).toBeGreaterThan(0);
  for (const m of shown) {
    expect(m.text).toBe('a mostly red frame');
    expect([m.startSec >= RED.from, m.startSec <= RED.to, m.endSec > m.startSec, m.endSec <= 20.5]).toEqual([true, true, true, true]);
  }
  // The other colours are where they are shown, too.
  const blue = (await search('blue')).results.find((r) => r.videoId === COLOURS)!.moments;
  expect(blue.length).toBeGreaterThan(0);
  for (const m of blue) expect(m.startSec).toBeLessThan(RED.from);
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
    'clicking a keyframe moment opens the player within 2 s of the shot',
    async () => {
      const moment: SearchMoment = (await search('red')).results[0]!.moments.find((m) => m.source === 'keyframe')!;
      const at = Math.floor(moment.startSec);
      await onPage('search-keyframe-click', async (page) => {
        await page.goto(`${stack.apiUrl}/dashboard/`, { waitUntil: 'domcontentloaded' });
        await page.getByLabel('Describe what you look for').fill('red');
        await page.getByRole('button', { name: 'Search' }).click();
        const link = page.locator(`#search-results li[data-video-id="${COLOURS}"] li[data-source="keyframe"] a.moment`).first();
        await link.waitFor({ timeout: 15_000 });
        expect(await link.getAttribute('href')).toBe(`#video=${COLOURS}&t=${at}`);
        expect(
          await page.locator(`#search-results li[data-video-id="${COLOURS}"] li[data-source="keyframe"]`).first().textContent(),
        ).toContain('shown: a mostly red frame');
        await link.click();
        await waitForExpression(
          page,
          `(() => { const v = document.querySelector('#player'); return Boolean(v && v.dataset.videoId === '${COLOURS}' && Math.abs(v.currentTime - ${moment.startSec}) <= 2); })()`,
          6_000,
        );
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

test("DELETE removes the video's keyframe moments", async () => {
  const count = async () =>
    (await stack.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM keyframe_moments WHERE video_id = $1', [COLOURS])).rows[0]!.n;
  expect(await count()).toBeGreaterThan(0);
  const res = await fetch(`${stack.apiUrl}/videos/${COLOURS}`, { method: 'DELETE', headers: { authorization: `Bearer ${stack.apiKey}` } });
  expect([200, 202]).toContain(res.status);
  const end = Date.now() + 60_000;
  while ((await count()) > 0) {
    if (Date.now() > end) throw new Error(`keyframe rows left 60 s after DELETE: ${await count()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  expect((await search('red')).results.map((r) => r.videoId)).not.toContain(COLOURS);
});
