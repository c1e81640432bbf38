import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import type { VideoStatus } from '../../src/app/status';
import { readSse, type SseEvent } from '../../src/cli/sse';
import { makeSampleClip } from '../../src/media/sample-clip';
import { STEPS } from '../../src/pipeline/catalogue';
import { startStack, type Stack } from '../support/stack';
import type { TestApi } from '../support/api';
import { makeNotAVideo } from '../support/media';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const run = promisify(execFile);

// GET /videos/:id/events on the real stack: the status document pushed on each change of the
// workers' reports (PostgreSQL LISTEN on video_progress), so a watcher costs Temporal nothing while
// the reports are fresh. About the event path, not media: a short generated clip, long enough that
// the media step reports for several seconds on the harness's preset. What the API's client asks
// Temporal is counted by an interceptor on it (as in status-feed.test.ts).

let stack: Stack;
let url: string;
let viewerKey: string;
const asked = { query: 0, describe: 0 };
const temporalCalls = () => asked.query + asked.describe;

beforeAll(async () => {
  stack = await startStack({
    name: 'status-events',
    workers: ['pipeline', 'media', 'ai', 'index'],
    api: {
      interceptors: {
        workflow: [
          {
            query: (input, next) => {
              asked.query++;
              return next(input);
            },
            describe: (input, next) => {
              asked.describe++;
              return next(input);
            },
          },
        ],
      },
    },
  });
  url = await listen(stack.api);
  viewerKey = await stack.api.createKey('viewer');
  await makeSampleClip(path.join(stack.ingestDir, 'clip.mp4'), { seconds: 30, width: 1280, height: 720, audio: true });
  await makeNotAVideo(path.join(stack.ingestDir, 'broken.mp4'));
});

afterAll(() => stack?.stop());

/** The in-process app on a real port: a stream is read as a browser or the CLI reads it, not via inject. */
async function listen(api: TestApi): Promise<string> {
  await api.raw.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(api.raw.server.address() as AddressInfo).port}`;
}

async function post(videoId: string): Promise<void> {
  const res = await stack.api.app.inject({
    method: 'POST',
    url: '/videos',
    payload: { videoId, source: { kind: 'file', path: 'clip.mp4' } },
  });
  expect(res.statusCode).toBe(202);
}

interface Received extends SseEvent {
  at: number;
  /** Temporal calls the API had made when this event arrived. */
  calls: number;
  doc: VideoStatus;
}

test('a viewer watching with ?access_token= gets the document at once, each step as it advances, the ready document last, and the stream then closes — asking Temporal ~nothing while the reports are fresh', async () => {
  await post('ev-1');
  const opened = Date.now();
  const res = await fetch(`${url}/videos/ev-1/events?access_token=${encodeURIComponent(viewerKey)}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: Received[] = [];
  for await (const ev of readSse(res.body!)) {
    events.push({ ...ev, at: Date.now(), calls: temporalCalls(), doc: JSON.parse(ev.data) as VideoStatus });
    // Guard: a stream that never ends fails here rather than at jest's timeout.
    if (Date.now() - opened > 180_000) throw new Error(`the stream did not end in 180 s; last ${ev.data}`);
  }
  // The loop ended: the server closed the stream.
  expect(events.length).toBeGreaterThanOrEqual(3);
  expect(events[0]!.at - opened).toBeLessThan(2_000);
  expect(events.every((e) => e.event === 'status' && e.doc.videoId === 'ev-1')).toBe(true);
  const last = events.at(-1)!.doc;
  expect(last).toMatchObject({ status: 'ready', analysis: 'complete' });
  // The stream's last document is what GET /videos/:id says now (but for workflowStatus: the run
  // may still be closing when it already says ready, step done).
  const now = (await stack.api.app.inject({ method: 'GET', url: '/videos/ev-1' })).json() as VideoStatus;
  expect({ ...now, workflowStatus: last.workflowStatus }).toEqual(last);
  // Steps advance in order; no two consecutive events are the same document.
  const order: string[] = ['queued', ...STEPS, 'done'];
  const steps = events.map((e) => order.indexOf(e.doc.step));
  expect(steps.every((s, i) => s >= 0 && (i === 0 || s >= steps[i - 1]!))).toBe(true);
  expect(new Set(steps).size).toBeGreaterThanOrEqual(3);
  for (let i = 1; i < events.length; i++) expect(events[i]!.data).not.toBe(events[i - 1]!.data);
  // At most a few events a second, although the media worker reports every second and the workflow on each change.
  const span = (events.at(-1)!.at - events[0]!.at) / 1000;
  expect(events.length / Math.max(1, span)).toBeLessThan(4);

  // While the media step reported (progress percent from the worker's row), the watcher cost
  // Temporal (almost) nothing: a read that had to ask costs a query and a describe.
  const reporting = events.filter((e) => e.doc.step === 'transcode' && e.doc.progress?.step === 'transcode');
  expect(reporting.length).toBeGreaterThanOrEqual(3);
  const spent = reporting.at(-1)!.calls - reporting[0]!.calls;
  // Below what asking on every read would cost (2 per event after the first), and ~0.
  expect(spent).toBeLessThan(Math.min(5, 2 * (reporting.length - 1)));
});

test('the same refusals as GET /videos/:id: no key, an unknown or revoked key, an unknown video', async () => {
  const noKey = await fetch(`${url}/videos/ev-1/events`);
  expect(noKey.status).toBe(401);
  const other = await stack.api.keys.create('viewer', 'another-caller');
  await stack.api.keys.revoke(other.row.id);
  for (const key of [other.key, 'not-a-key']) {
    const viaHeader = await fetch(`${url}/videos/ev-1/events`, { headers: { authorization: `Bearer ${key}` } });
    const viaQuery = await fetch(`${url}/videos/ev-1/events?access_token=${key}`);
    const status = await fetch(`${url}/videos/ev-1`, { headers: { authorization: `Bearer ${key}` } });
    expect([viaHeader.status, viaQuery.status]).toEqual([401, 401]);
    expect(await viaHeader.json()).toEqual(await status.json());
    await viaQuery.body?.cancel();
  }
  const [missing, missingStatus] = await Promise.all(
    [`${url}/videos/nope/events`, `${url}/videos/nope`].map((u) => fetch(u, { headers: { authorization: `Bearer ${viewerKey}` } })),
  );
  expect([missing!.status, missingStatus!.status]).toEqual([404, 404]);
  expect(await missing!.json()).toEqual(await missingStatus!.json());
});

/** The backends LISTENing on the status channel in this test's database. */
async function listeners(): Promise<number[]> {
  const { rows } = await stack.db.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN video_progress%'`,
  );
  return rows.map((r) => r.pid);
}

test('watchers of two videos share one listening connection; killed, it comes back and the watchers keep getting changes', async () => {
  await Promise.all([post('ev-3'), post('ev-4')]);
  const auth = { authorization: `Bearer ${viewerKey}` };
  const streams = await Promise.all(['ev-3', 'ev-3', 'ev-4'].map((id) => fetch(`${url}/videos/${id}/events`, { headers: auth })));
  expect(streams.map((r) => r.status)).toEqual([200, 200, 200]);
  const [watched, ...others] = streams.map((r) => readSse(r.body!));
  expect((await watched!.next()).value).toMatchObject({ event: 'status' });
  const before = await listeners();
  expect(before).toHaveLength(1);

  await stack.db.pool.query('SELECT pg_terminate_backend($1)', [before[0]]);
  const killedAt = Date.now();
  const after: VideoStatus[] = [];
  for await (const ev of watched!) after.push(JSON.parse(ev.data) as VideoStatus);
  expect(after.length).toBeGreaterThanOrEqual(2);
  expect(after.at(-1)).toMatchObject({ status: 'ready' });
  const now = await listeners();
  expect(now).toHaveLength(1);
  expect(now[0]).not.toBe(before[0]);
  expect(Date.now() - killedAt).toBeLessThan(120_000);
  await Promise.all(others.map((g) => g.return(undefined)));
});

test('beyond the per-process bound a stream is refused 503 Overloaded, and a disconnected watcher frees its place', async () => {
  // A second API with a bound of 1 (the product's default is 1000): the bound is what is tested.
  const small = await stack.startApi({ maxEventStreams: 1 });
  const smallUrl = await listen(small);
  await post('ev-2');
  const auth = { authorization: `Bearer ${viewerKey}` };
  const first = new AbortController();
  const open = await fetch(`${smallUrl}/videos/ev-2/events`, { headers: auth, signal: first.signal });
  expect(open.status).toBe(200);
  const events = readSse(open.body!);
  expect((await events.next()).value).toMatchObject({ event: 'status' });

  const refused = await fetch(`${smallUrl}/videos/ev-2/events`, { headers: auth });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toEqual(expect.any(String));
  expect(await refused.json()).toMatchObject({ error: { type: 'Overloaded' } });

  first.abort();
  await events.return(undefined).catch(() => undefined);
  // The server sees the disconnect and frees the place.
  const until = Date.now() + 10_000;
  for (;;) {
    const again = await fetch(`${smallUrl}/videos/ev-2/events`, { headers: auth });
    if (again.status === 200) {
      await again.body?.cancel();
      break;
    }
    await again.body?.cancel();
    if (Date.now() > until) throw new Error(`still ${again.status} 10 s after the only watcher disconnected`);
    await new Promise((r) => setTimeout(r, 200));
  }
});

/** `biblio` as a person runs it against this API: its exit code and output (stderr has the progress lines). */
async function biblio(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, BIBLIO_API_URL: url, BIBLIO_API_KEY: viewerKey };
  return run(process.execPath, [CLI, ...args], { env, timeout: 180_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}

test('biblio status --follow prints a progress line per change from the stream and exits 0 when the video is ready', async () => {
  await post('ev-cli');
  const out = await biblio('status', 'ev-cli', '--follow');
  expect(out).toMatchObject({ code: 0 });
  const lines = out.stderr.trim().split('\n');
  // Not a terminal: one line per change (src/cli/progress.ts), e.g. "processing transcode 40%".
  expect(lines.filter((l) => /^processing transcode \d+%/.test(l)).length).toBeGreaterThanOrEqual(2);
  expect(lines.at(-1)).toMatch(/^ready /);
  expect(out.stdout).toMatch(/^ev-cli {2}ready/);
});

test('biblio status --follow exits 1 with the typed reason when the video fails', async () => {
  const res = await stack.api.app.inject({
    method: 'POST',
    url: '/videos',
    payload: { videoId: 'ev-bad', source: { kind: 'file', path: 'broken.mp4' } },
  });
  expect(res.statusCode).toBe(202);
  const out = await biblio('status', 'ev-bad', '--follow');
  expect(out.code).toBe(1);
  expect(out.stderr).toMatch(/biblio: ev-bad failed at transcode: InvalidMedia/);
});
