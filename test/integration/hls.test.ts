import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Browser } from 'playwright-core';
import { createHlsActivities, sweepHlsStaging } from '../../src/activities/media/hls';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import { VideoIndexRepo } from '../../src/db/video-index-repo';
import {
  masterProblems,
  mediaPlaylistProblems,
  parseMasterPlaylist,
  parseMediaPlaylist,
  type MediaPlaylist,
} from '../../src/media/hls-playlist';
import type { HeartbeatProgress, HlsOutput, MediaFacts } from '../../src/workflows/contracts';
import type { TestApi } from '../support/api';
import type { TestDatabase } from '../support/database';
import { startStack, type Stack } from '../support/stack';
import { CHROMIUM, launchChromium, waitForExpression } from '../support/browser';

// The HLS ladder on real parts: ffmpeg packages a 30 s 640x360 H.264/AAC rendition, the real
// API route serves it (auth on, PostgreSQL), and Debian's Chromium plays it with hls.js.
const run = promisify(execFile);
const SEGMENT_SEC = 4;
const CLIP_SEC = 30;

let dataDir: string;
let mediaDir: string;
let activities: ReturnType<typeof createHlsActivities>;
let store: LocalObjectStorage;
/** Rendition with a keyframe at every segment start (what the segmented transcode writes). */
let aligned: HlsOutput;
let alignedBeats: HeartbeatProgress[];
/** Rendition with x264's default GOP (a keyframe every 10 s): its keyframes cannot be reused. */
let sparse: HlsOutput;
/** A 9 s portrait 360x640 rendition without audio. */
let portrait: HlsOutput;

/** A 640x360 (30 s) H.264/AAC faststart MP4 at `<mediaDir>/<id>/rendition.mp4`. */
async function makeRendition(id: string, keyframes: string[], o = { size: '640x360', seconds: CLIP_SEC, audio: true }): Promise<string> {
  const file = path.join(mediaDir, id, 'rendition.mp4');
  await mkdir(path.dirname(file), { recursive: true });
  // prettier-ignore
  await run('ffmpeg', [
    '-v', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${o.size}:rate=25`,
    ...(o.audio ? ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'] : []),
    '-t', String(o.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-threads', '1', '-pix_fmt', 'yuv420p', ...keyframes,
    ...(o.audio ? ['-c:a', 'aac', '-b:a', '128k'] : []), '-movflags', '+faststart', file,
  ]);
  return file;
}

async function packageHls(id: string, attempt = 1): Promise<{ out: HlsOutput; beats: HeartbeatProgress[]; logs: string[] }> {
  // The activity's log lines, kept (not printed) so tests can read what it decided.
  const logs: string[] = [];
  const keep = (level: string) => (message: string, meta?: Record<string, unknown>) =>
    logs.push(`${level} ${message} ${JSON.stringify({ topRungCopied: meta?.topRungCopied, segments: meta?.segments })}`);
  const logger = {
    log: (level: string, m: string) => logs.push(`${level} ${m}`),
    trace: keep('trace'),
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
  };
  const env = new MockActivityEnvironment({ attempt }, { logger });
  const beats: HeartbeatProgress[] = [];
  env.on('heartbeat', (d: HeartbeatProgress) => beats.push(d));
  const renditionPath = path.join(mediaDir, id, 'rendition.mp4');
  const out = (await env.run(activities.packageHls, { videoId: id, renditionPath, segmentSec: SEGMENT_SEC })) as HlsOutput;
  return { out, beats, logs };
}

/** Decodes a media segment as a player would: its init segment followed by the segment. */
function decodeSegment(init: string, segment: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const ff = spawn('ffmpeg', ['-v', 'error', '-nostdin', '-threads', '1', '-i', 'pipe:0', '-f', 'null', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    ff.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    ff.once('error', reject);
    ff.once('close', (code) => resolve({ code, stderr }));
    void (async () => {
      ff.stdin.write(await readFile(init));
      ff.stdin.end(await readFile(segment));
    })().catch(reject);
  });
}

/** A variant as one fragmented MP4 (init segment + every media segment), in a scratch file. */
async function joined(v: { dir: string; playlist: MediaPlaylist }): Promise<string> {
  const file = path.join(dataDir, `joined-${path.basename(path.dirname(v.dir))}-${path.basename(v.dir)}.mp4`);
  const parts = [v.playlist.map ?? '', ...v.playlist.segments.map((s) => s.uri)];
  await writeFile(file, Buffer.concat(await Promise.all(parts.map((p) => readFile(path.join(v.dir, p))))));
  return file;
}

/** MD5 of the H.264 packets' bytes (timestamps and container aside): equal means copied, not re-encoded. */
async function videoHash(file: string): Promise<string> {
  const { stdout } = await run('ffmpeg', [
    '-v',
    'error',
    '-i',
    file,
    '-map',
    '0:v:0',
    '-c',
    'copy',
    '-f',
    'streamhash',
    '-hash',
    'md5',
    '-',
  ]);
  return stdout.trim();
}

async function variantsOf(out: HlsOutput) {
  const masterFile = path.join(mediaDir, out.masterPath);
  const master = parseMasterPlaylist(await readFile(masterFile, 'utf8'));
  return Promise.all(
    master.variants.map(async (v) => {
      const file = path.join(path.dirname(masterFile), v.uri);
      return { ...v, dir: path.dirname(file), playlist: parseMediaPlaylist(await readFile(file, 'utf8')) };
    }),
  );
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-hls-'));
  mediaDir = path.join(dataDir, 'media');
  // The local store the API of the stack below reads (`<dataDir>/objects`): the ladder is published there too.
  store = new LocalObjectStorage({ root: path.join(dataDir, 'objects'), secret: Buffer.alloc(32, 1), publicBaseUrl: 'http://127.0.0.1:1' });
  activities = createHlsActivities({
    ffmpeg: { ffmpegPath: 'ffmpeg', ffprobePath: 'ffprobe', threads: 1, preset: 'ultrafast' },
    mediaDir,
    storage: store,
  });
  await makeRendition('aligned', ['-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SEC})`]);
  await makeRendition('sparse', []);
  ({ out: aligned, beats: alignedBeats } = await packageHls('aligned'));
  ({ out: sparse } = await packageHls('sparse'));
  await makeRendition('portrait', ['-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SEC})`], {
    size: '360x640',
    seconds: 9,
    audio: false,
  });
  ({ out: portrait } = await packageHls('portrait'));
}, 120_000);

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('packageHls on real ffmpeg', () => {
  test('publishes a master playlist whose every variant has BANDWIDTH, RESOLUTION and CODECS', async () => {
    expect(aligned.masterPath).toBe('aligned/hls/master.m3u8');
    const text = await readFile(path.join(mediaDir, aligned.masterPath), 'utf8');
    expect(masterProblems(text)).toEqual([]);
    const { variants } = parseMasterPlaylist(text);
    expect(variants.map((v) => [v.uri, v.attrs.RESOLUTION])).toEqual([
      ['360p/index.m3u8', '640x360'],
      ['240p/index.m3u8', '426x240'],
    ]);
    for (const v of variants) expect(v.attrs.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    expect(aligned.variants.map((v) => `${v.name} ${v.width}x${v.height} ${v.codecs}`)).toEqual(
      variants.map((v) => `${v.uri.split('/')[0]} ${v.attrs.RESOLUTION} ${v.attrs.CODECS}`),
    );
    expect(alignedBeats.map((b) => b.percent).at(-1)).toBe(100);
  });

  test('each variant playlist parses, is complete, and lasts as long as the rendition', async () => {
    for (const v of await variantsOf(aligned)) {
      expect({ uri: v.uri, problems: mediaPlaylistProblems(v.playlist) }).toEqual({ uri: v.uri, problems: [] });
      const total = v.playlist.segments.reduce((s, x) => s + x.duration, 0);
      expect(Math.abs(total - CLIP_SEC)).toBeLessThan(0.1);
    }
  });

  test('segments of every variant start at the same instants, one per segment length', async () => {
    for (const out of [aligned, sparse]) {
      const durations = (await variantsOf(out)).map((v) => v.playlist.segments.map((s) => s.duration));
      const expected = [4, 4, 4, 4, 4, 4, 4, 2];
      for (const d of durations) expect(d.map((x) => Math.round(x * 100) / 100)).toEqual(expected);
    }
  });

  test("copies the rendition's H.264 bit for bit into the top rung when it has a keyframe at every segment start, else re-encodes it", async () => {
    const rendition = await videoHash(path.join(mediaDir, 'aligned', 'rendition.mp4'));
    const [top] = await variantsOf(aligned);
    expect(await videoHash(await joined(top!))).toBe(rendition);
    const [sparseTop] = await variantsOf(sparse);
    expect(await videoHash(await joined(sparseTop!))).not.toBe(await videoHash(path.join(mediaDir, 'sparse', 'rendition.mp4')));
  });

  test('every segment of every variant decodes without an error, at the resolution its variant declares', async () => {
    for (const out of [aligned, sparse, portrait]) {
      for (const v of await variantsOf(out)) {
        const init = path.join(v.dir, v.playlist.map ?? '');
        for (const seg of v.playlist.segments) {
          const res = await decodeSegment(init, path.join(v.dir, seg.uri));
          const where = `${out.masterPath} ${v.uri} ${seg.uri}`;
          expect({ where, ...res }).toEqual({ where, code: 0, stderr: '' });
        }
        const { stdout } = await run('ffprobe', [
          ...['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0:s=x'],
          await joined(v),
        ]);
        expect(`${v.uri} ${stdout.trim()}`).toBe(`${v.uri} ${v.attrs.RESOLUTION}`);
      }
    }
  }, 120_000);

  test('a portrait video without audio gets video-only variants sized by the short side', async () => {
    expect(portrait.variants.map((v) => `${v.name} ${v.width}x${v.height} ${v.codecs}`)).toEqual([
      expect.stringMatching(/^360p 360x640 avc1\.[0-9a-f]{6}$/),
      expect.stringMatching(/^240p 240x426 avc1\.[0-9a-f]{6}$/),
    ]);
    for (const v of await variantsOf(portrait)) {
      expect(mediaPlaylistProblems(v.playlist)).toEqual([]);
      expect(v.playlist.segments.map((s) => s.duration)).toEqual([4, 4, 1]);
      const { stdout } = await run('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_type,width,height',
        '-of',
        'csv=p=0',
        await joined(v),
      ]);
      expect(stdout.trim()).toBe(`video,${v.attrs.RESOLUTION?.replace('x', ',')}`);
    }
  });

  test('a retry reuses the intact ladder an earlier attempt published, without running ffmpeg again', async () => {
    const master = path.join(mediaDir, aligned.masterPath);
    const before = (await stat(master)).mtimeMs;
    const again = await packageHls('aligned', 2);
    expect(again.out).toEqual(aligned);
    expect(again.beats.map((b) => b.percent)).toEqual([0, 100]);
    expect(again.logs.some((l) => l.includes('reusing the verified HLS ladder'))).toBe(true);
    expect((await stat(master)).mtimeMs).toBe(before);
  });

  test('a damaged ladder is rebuilt and replaced, and staging dirs of dead attempts are swept', async () => {
    const segment = path.join(mediaDir, 'sparse', 'hls', '240p', 'seg_00003.m4s');
    await rm(segment);
    const dead = path.join(mediaDir, '.hls-staging', 'sparse.attempt-1.pid-999999', '240p');
    await mkdir(dead, { recursive: true });
    const again = await packageHls('sparse', 2);
    expect(again.beats.some((b) => b.percent > 0 && b.percent < 100)).toBe(true);
    expect((await stat(segment)).size).toBeGreaterThan(0);
    expect((await readdir(path.join(mediaDir, 'sparse'))).sort()).toEqual(['hls', 'rendition.mp4']);
    expect(await readdir(path.join(mediaDir, '.hls-staging'))).toEqual([]);
    expect(masterProblems(await readFile(path.join(mediaDir, again.out.masterPath), 'utf8'))).toEqual([]);
  }, 60_000);
});

test('a media worker starting sweeps the ladders dead attempts left half-built, of any video', async () => {
  const staging = path.join(mediaDir, '.hls-staging');
  await mkdir(path.join(staging, 'gone.attempt-3.pid-999999', '360p'), { recursive: true });
  await mkdir(path.join(staging, 'gone.old.attempt-2.pid-999998'), { recursive: true });
  await mkdir(path.join(staging, `live.attempt-1.pid-${process.pid}`), { recursive: true });
  expect((await sweepHlsStaging(mediaDir)).sort()).toEqual(['gone.attempt-3.pid-999999', 'gone.old.attempt-2.pid-999998']);
  expect(await readdir(staging)).toEqual([`live.attempt-1.pid-${process.pid}`]);
  await rm(path.join(staging, `live.attempt-1.pid-${process.pid}`), { recursive: true });
});

describe('served by the API and played in Chromium', () => {
  let stack: Stack;
  let db: TestDatabase;
  let api: TestApi;
  let base: string;

  beforeAll(async () => {
    stack = await startStack({ name: 'hls', dataDir, api: {} });
    ({ db, api } = stack);
    // A ready row, as the index step leaves it (the dashboard lists it with a Play button).
    const facts: MediaFacts = {
      durationSec: CLIP_SEC,
      width: 640,
      height: 360,
      videoCodec: 'h264',
      audioCodec: 'aac',
      frameRate: 25,
      sizeBytes: 1,
      container: 'mp4',
    };
    const rows = new VideoIndexRepo(db.pool);
    await rows.writeIndexRow(
      db.pool,
      { id: 'aligned', source: { kind: 'file', path: 'aligned.mp4' }, workflowId: 'video-aligned' },
      {
        renditionPath: path.join(mediaDir, 'aligned', 'rendition.mp4'),
        thumbnailPath: path.join(mediaDir, 'aligned', 'rendition.mp4'),
        source: facts,
        rendition: facts,
      },
      { analyzer: 'offline', model: 'none', dim: 4, offline: true, summary: 'test pattern', tags: [], embeddingPath: '-' },
      'videos',
    );
    await rows.markSearchable('aligned');
    await api.raw.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(api.raw.server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(() => stack?.stop());

  test('serves the master playlist, variant playlists and segments with their content types', async () => {
    const master = await api.app.inject('/videos/aligned/hls/master.m3u8');
    expect([master.statusCode, master.headers['content-type']]).toEqual([200, 'application/vnd.apple.mpegurl']);
    expect(masterProblems(master.body)).toEqual([]);
    const variant = await api.app.inject('/videos/aligned/hls/240p/index.m3u8');
    expect([variant.statusCode, variant.headers['content-type']]).toEqual([200, 'application/vnd.apple.mpegurl']);
    const playlist = parseMediaPlaylist(variant.body);
    const init = await api.app.inject(`/videos/aligned/hls/240p/${playlist.map}`);
    expect([init.statusCode, init.headers['content-type']]).toEqual([200, 'video/mp4']);
    const seg = await api.app.inject(`/videos/aligned/hls/240p/${playlist.segments[0]?.uri}`);
    expect([seg.statusCode, seg.headers['content-type']]).toEqual([200, 'video/iso.segment']);
    expect(seg.rawPayload.length).toBeGreaterThan(1000);
    // Read from the store (the local one here: streamed, with ranges), not from a media dir.
    expect(seg.rawPayload.equals((await store.getBytes(`media/aligned/hls/240p/${playlist.segments[0]?.uri}`))!)).toBe(true);
    const ranged = await api.app.inject({ url: `/videos/aligned/hls/240p/${playlist.segments[0]?.uri}`, headers: { range: 'bytes=0-99' } });
    expect([ranged.statusCode, ranged.rawPayload.length]).toEqual([206, 100]);
  });

  test('needs a key, like the MP4: none → 401; with ?access_token= every URI in the playlist carries it', async () => {
    expect((await api.raw.inject('/videos/aligned/hls/master.m3u8')).statusCode).toBe(401);
    const q = `access_token=${encodeURIComponent(api.key)}`;
    const master = await api.raw.inject(`/videos/aligned/hls/master.m3u8?${q}`);
    expect(master.statusCode).toBe(200);
    expect(parseMasterPlaylist(master.body).variants.map((v) => v.uri)).toEqual([`360p/index.m3u8?${q}`, `240p/index.m3u8?${q}`]);
    const variant = await api.raw.inject(`/videos/aligned/hls/360p/index.m3u8?${q}`);
    const playlist = parseMediaPlaylist(variant.body);
    expect(playlist.map).toMatch(new RegExp(`^init(_\\d+)?\\.mp4\\?${q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(playlist.segments.every((s) => s.uri.endsWith(`?${q}`))).toBe(true);
    // Requested with a header instead, the playlist is served as published.
    expect((await api.app.inject('/videos/aligned/hls/master.m3u8')).body).not.toContain('access_token');
  });

  test('refuses paths outside the ladder and unknown videos', async () => {
    // `..` and `%2e%2e` path segments are resolved by the client (WHATWG URL) before the request,
    // to other routes; these reach the HLS route with `..` in the file name.
    for (const url of [
      '/videos/aligned/hls/%2e%2e%2f%2e%2e%2fother%2fhls%2fmaster.m3u8',
      '/videos/aligned/hls/360p/..%2f..%2frendition.mp4',
      '/videos/aligned/hls/rendition.mp4',
      '/videos/aligned/hls/ladder.json',
      '/videos/aligned/hls/360p/seg_00000.m4s.bak',
      '/videos/aligned/hls/',
    ]) {
      const res = await api.app.inject(url);
      expect({ url, status: res.statusCode, type: res.headers['content-type'] }).toEqual({
        url,
        status: 404,
        type: 'application/json; charset=utf-8',
      });
    }
    const unknown = await api.app.inject('/videos/nope/hls/master.m3u8');
    expect([unknown.statusCode, unknown.json<{ error: { type: string } }>().error.type]).toEqual([404, 'VideoNotFound']);
  });

  const browserTest = existsSync(CHROMIUM) ? test : test.skip;
  if (!existsSync(CHROMIUM)) console.warn(`HLS playback test SKIPPED: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);

  browserTest(
    'Chromium plays the master playlist with hls.js from the API, carrying the key in the URLs, and playback time advances',
    async () => {
      let browser: Browser | undefined;
      try {
        browser = await launchChromium();
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        const fetched: string[] = [];
        page.on('response', (r) => {
          if (r.url().includes('/hls/')) fetched.push(`${r.status()} ${new URL(r.url()).pathname}`);
        });
        // A blank page on the API's origin (the player's requests are then same-origin, as in the dashboard).
        await page.route(`${base}/hls-player.html`, (route) =>
          route.fulfill({ contentType: 'text/html', body: '<!doctype html><video id="v" muted autoplay playsinline></video>' }),
        );
        await page.goto(`${base}/hls-player.html`);
        await page.addScriptTag({ url: `${base}/dashboard/vendor/hls.min.js` });
        const src = `${base}/videos/aligned/hls/master.m3u8?access_token=${encodeURIComponent(api.key)}`;
        // Page code as strings: the test's TypeScript has no DOM types (it runs in Node).
        await page.evaluate(`(() => {
          window.hlsErrors = [];
          const hls = new Hls();
          hls.on(Hls.Events.ERROR, (_e, data) => window.hlsErrors.push(data.details));
          hls.on(Hls.Events.MANIFEST_PARSED, () => (window.hlsLevels = hls.levels.map((l) => l.width + 'x' + l.height)));
          const video = document.getElementById('v');
          hls.loadSource(${JSON.stringify(src)});
          hls.attachMedia(video);
          video.play().catch(() => undefined);
        })()`);
        const playerState = `(() => {
          const v = document.getElementById('v');
          return { currentTime: v.currentTime, readyState: v.readyState, error: v.error && v.error.message, hlsErrors: window.hlsErrors, levels: window.hlsLevels };
        })()`;
        await page.waitForFunction(`document.getElementById('v').currentTime > 2`, null, { timeout: 30_000 }).catch(async (err: Error) => {
          const state: unknown = await page.evaluate(playerState);
          throw new Error(`${err.message}\nplayer: ${JSON.stringify(state)}\nfetched:\n${fetched.join('\n')}\n${problems.join('\n')}`);
        });
        const state = (await page.evaluate(playerState)) as { currentTime: number; levels: string[]; hlsErrors: string[] };
        expect(state.currentTime).toBeGreaterThan(2);
        expect([...state.levels].sort()).toEqual(['426x240', '640x360']);
        expect(state.hlsErrors).toEqual([]);
        // The player reached segments through the API, each request authorised by the URL's token.
        expect(fetched.filter((f) => /^200 .*\.m4s$/.test(f)).length).toBeGreaterThan(0);
        expect(fetched.filter((f) => !f.startsWith('200 '))).toEqual([]);
        expect(problems).toEqual([]);
      } finally {
        await browser?.close();
      }
    },
    90_000,
  );
  browserTest(
    "the dashboard's player plays a video whose status links HLS (native HLS with the key in the URLs, else hls.js with a header)",
    async () => {
      let browser: Browser | undefined;
      try {
        browser = await launchChromium();
        const page = await browser.newPage();
        await page.addInitScript(`localStorage.setItem('biblio.apiKey', ${JSON.stringify(api.key)})`);
        const fetched: string[] = [];
        const failed: string[] = [];
        page.on('request', (r) => {
          const url = new URL(r.url());
          if (!url.pathname.includes('/hls/')) return;
          const how = r.headers().authorization ? 'header' : url.searchParams.has('access_token') ? 'token' : 'none';
          fetched.push(`${how} ${url.pathname}`);
        });
        page.on('response', (r) => {
          if (r.url().includes('/hls/') && r.status() >= 400) failed.push(`${r.status()} ${new URL(r.url()).pathname}`);
        });
        // The one thing faked: the workflow's `media.hls` (part A's pipeline adds it) → links.hls in the status.
        await page.route(`${base}/videos/aligned`, async (route) => {
          const res = await route.fetch();
          const body = (await res.json()) as { links: Record<string, string> };
          await route.fulfill({ response: res, json: { ...body, links: { ...body.links, hls: '/videos/aligned/hls/master.m3u8' } } });
        });
        await page.goto(`${base}/dashboard/`, { waitUntil: 'domcontentloaded' });
        await page.locator('li[data-video-id="aligned"]').getByRole('button', { name: /Play/ }).click();
        await waitForExpression(page, `(document.querySelector('#player')?.currentTime ?? 0) > 1`, 30_000);
        expect(await page.locator('#player-caption').textContent()).toContain('(HLS)');
        // Chromium 142+ plays HLS natively (canPlayType says so): the dashboard then hands the URL to
        // <video> with ?access_token=, which only works because playlists pass the token on.
        const native = Boolean(await page.evaluate(`document.querySelector('#player').canPlayType('application/vnd.apple.mpegurl')`));
        const auth = fetched.map((f) => f.split(' ')[0]);
        expect(auth.length).toBeGreaterThan(0);
        expect(new Set(auth)).toEqual(new Set([native ? 'token' : 'header']));
        expect(fetched.some((f) => /\.m4s$/.test(f))).toBe(true);
        expect(failed).toEqual([]);
      } finally {
        await browser?.close();
      }
    },
    90_000,
  );
});
