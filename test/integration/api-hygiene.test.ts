import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type {
  DeadLetterListResponse,
  ErrorBody,
  KeyCreatedResponse,
  KeyListResponse,
  SearchResponse,
  VideoStatusResponse,
} from '../../src/contracts/http';
import { DeadLettersRepo } from '../../src/db/dead-letters-repo';
import { makeNotAVideo, makeTinyClip } from '../support/media';
import { startHttpStack, type HttpStack } from '../support/http-stack';

// Issue 26 on the real API process with production defaults (rate limit 600/min per client,
// auth on, helmet) in front of the four worker processes, Temporal and PostgreSQL: hostile input
// answers 4xx in the one error shape, limits hold per key and per address, no server path
// reaches a client, and every CLI command reads what the API answers.

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const run = promisify(execFile);

let stack: HttpStack;

beforeAll(async () => {
  stack = await startHttpStack('hygiene');
  await makeTinyClip(path.join(stack.ingestDir, 'harbour.mp4'), 2);
  await makeNotAVideo(path.join(stack.ingestDir, 'broken.mp4'));
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

interface Answer {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

async function call(method: string, url: string, o: { body?: unknown; raw?: Buffer; key?: string | null } = {}): Promise<Answer> {
  const key = o.key === undefined ? stack.apiKey : o.key;
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  let body: string | Buffer | undefined;
  if (o.raw) body = o.raw;
  else if (o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${stack.apiUrl}${url}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, headers: res.headers };
}

function isErrorShape(json: unknown): json is ErrorBody {
  const e = (json as ErrorBody | undefined)?.error;
  return (
    !!e &&
    typeof e.type === 'string' &&
    typeof e.message === 'string' &&
    (e.videoId === null || typeof e.videoId === 'string') &&
    (e.hint === null || typeof e.hint === 'string') &&
    Object.keys(json as object).length === 1
  );
}

async function waitForVideo(id: string, done: (s: VideoStatusResponse) => boolean): Promise<VideoStatusResponse> {
  for (const deadline = Date.now() + 120_000; ;) {
    const s = (await call('GET', `/videos/${id}`)).json as VideoStatusResponse;
    if (done(s)) return s;
    if (Date.now() > deadline) throw new Error(`video ${id} stuck: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('hostile input', () => {
  // As a person (or a fuzzer) would send them: NUL, C0 and C1 controls, a terminal escape,
  // 10 000 characters, invalid UTF-8 (as percent-encoding in URLs, as raw bytes in bodies).
  const HOSTILE = ['a\u0000b', 'a\u0007\u0008b', '\u001b[31mred\u001b[0m', '\u009b2J', 'x'.repeat(10_000), '../../../etc/passwd\u0000'];
  const BAD_UTF8_URL = '%C3%28%FF';
  const enc = encodeURIComponent;

  // Every route of the API, with the place each takes caller text: path params, query, body.
  const ROUTES: { method: string; url: (s: string) => string; body?: (s: string) => unknown }[] = [
    { method: 'GET', url: (s) => `/videos/${s}` },
    { method: 'DELETE', url: (s) => `/videos/${s}` },
    { method: 'GET', url: (s) => `/videos/${s}/rendition.mp4` },
    { method: 'GET', url: (s) => `/videos/${s}/thumbnail.jpg` },
    { method: 'GET', url: (s) => `/videos/${s}/hls/master.m3u8` },
    { method: 'GET', url: (s) => `/videos/harbour-1/hls/${s}` },
    { method: 'POST', url: (s) => `/videos/${s}/refresh-url`, body: () => ({ url: 'https://example.com/v.mp4' }) },
    { method: 'POST', url: () => '/videos/harbour-1/refresh-url', body: (s) => ({ url: `https://example.com/${s}` }) },
    { method: 'GET', url: (s) => `/videos?cursor=${s}` },
    { method: 'GET', url: (s) => `/videos?status=${s}` },
    { method: 'POST', url: () => '/videos', body: (s) => ({ source: { kind: 'file', path: s } }) },
    { method: 'POST', url: () => '/videos', body: (s) => ({ videoId: s, source: { kind: 'file', path: 'harbour.mp4' } }) },
    { method: 'POST', url: () => '/videos', body: (s) => ({ source: { kind: 'url', url: `https://example.com/${s}` } }) },
    { method: 'POST', url: () => '/videos', body: (s) => ({ source: { kind: 'upload', key: s } }) },
    { method: 'GET', url: (s) => `/search?q=${s}` },
    { method: 'GET', url: (s) => `/search?q=harbour&tags=${s}` },
    { method: 'GET', url: (s) => `/search?q=harbour&createdAfter=${s}` },
    { method: 'GET', url: (s) => `/dead-letters?type=${s}` },
    { method: 'GET', url: (s) => `/dead-letters?before=${s}` },
    { method: 'GET', url: (s) => `/dead-letters/${s}` },
    { method: 'POST', url: (s) => `/dead-letters/${s}/replay` },
    { method: 'POST', url: (s) => `/dead-letters/${s}/discard` },
    { method: 'POST', url: () => '/keys', body: (s) => ({ role: 'viewer', name: s }) },
    { method: 'POST', url: () => '/keys', body: (s) => ({ role: s }) },
    { method: 'DELETE', url: (s) => `/keys/${s}` },
    { method: 'POST', url: () => '/uploads', body: (s) => ({ filename: s, contentType: 'video/mp4', sizeBytes: 10 }) },
    { method: 'POST', url: () => '/uploads', body: (s) => ({ filename: 'a.mp4', contentType: s, sizeBytes: 10 }) },
    { method: 'POST', url: () => '/uploads', body: (s) => ({ videoId: s, contentType: 'video/mp4', sizeBytes: 10 }) },
    {
      method: 'POST',
      url: (s) => `/uploads/${s}/complete`,
      body: () => ({ key: 'k', uploadId: 'u', parts: [{ partNumber: 1, etag: 'e' }] }),
    },
    { method: 'POST', url: () => '/uploads/u1/complete', body: (s) => ({ key: s, uploadId: s, parts: [{ partNumber: 1, etag: s }] }) },
    { method: 'PUT', url: (s) => `/storage/o/${s}?e=1&s=x` },
    { method: 'GET', url: (s) => `/storage/o/${s}?e=1&s=x` },
    { method: 'GET', url: (s) => `/dashboard/${s}` },
    { method: 'GET', url: (s) => `/no-such-route/${s}` },
  ];

  test('every route answers each hostile string with a 4xx in the one error shape, never a 500', async () => {
    const bad: string[] = [];
    const check = (what: string, a: Answer) => {
      if (a.status < 400 || a.status >= 500 || !isErrorShape(a.json)) bad.push(`${what} → ${a.status} ${a.text.slice(0, 160)}`);
    };
    for (const r of ROUTES) {
      for (const s of HOSTILE) {
        const what = `${r.method} ${r.url('<' + JSON.stringify(s.slice(0, 12)) + '>')}`;
        check(what, await call(r.method, r.url(enc(s)), { body: r.body?.(s) }));
      }
      if (r.url('a') !== r.url('b')) {
        check(`${r.method} ${r.url(BAD_UTF8_URL)}`, await call(r.method, r.url(BAD_UTF8_URL), { body: r.body?.('ok') }));
      }
      if (r.body) {
        // Invalid UTF-8 inside a JSON string, as raw bytes.
        const json = Buffer.from(JSON.stringify(r.body('@@')));
        const at = json.indexOf('@@');
        const raw = Buffer.concat([json.subarray(0, at), Buffer.from([0xc3, 0x28, 0xff]), json.subarray(at + 2)]);
        check(`${r.method} ${r.url('x')} with invalid UTF-8 in the body`, await call(r.method, r.url('x'), { raw }));
      }
    }
    expect(bad).toEqual([]);
  });

  test('NUL bytes the review found reaching PostgreSQL are 400s now', async () => {
    for (const [method, url, body] of [
      ['GET', '/search?tags=a%00b&q=harbour', undefined],
      ['POST', '/keys', { role: 'viewer', name: 'a\u0000b' }],
      ['DELETE', '/keys/a%00b', undefined],
      ['POST', '/videos', { source: { kind: 'file', path: 'har\u0001bour.mp4' } }],
    ] as const) {
      const a = await call(method, url, { body });
      expect({ url, status: a.status, shape: isErrorShape(a.json) }).toEqual({ url, status: 400, shape: true });
    }
  });

  test('the framework answers in the one error shape too: a path id over the limit (414), a body longer than its Content-Length', async () => {
    const long = await call('GET', `/videos/${'v'.repeat(500)}`);
    expect(long.status).toBe(414);
    expect(isErrorShape(long.json)).toBe(true);

    // Content-Length covers the JSON; more bytes follow, which Node reads as a second request it
    // cannot parse (its own 400, answered by fastify's clientErrorHandler).
    const port = Number(new URL(stack.apiUrl).port);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (c) => (got += c.toString()));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      socket.write(
        `POST /keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${stack.apiKey}\r\nContent-Type: application/json\r\n` +
          `Content-Length: 17\r\n\r\n{"role":"viewer"}garbage\r\n\r\n`,
      );
      setTimeout(() => socket.end(), 2_000);
    });
    const bodies = raw
      .split(/HTTP\/1\.1 /)
      .filter(Boolean)
      .map((resp) => ({ status: Number(resp.slice(0, 3)), body: resp.slice(resp.indexOf('\r\n\r\n') + 4) }));
    // Node meets the unparsable bytes before the first answer is written: the socket gets its 400
    // (in our shape, instead of fastify's default body) and is closed.
    const last = bodies.at(-1);
    expect(last?.status).toBe(400);
    expect(isErrorShape(JSON.parse(last?.body ?? '{}'))).toBe(true);
  });
});

describe('headers', () => {
  test('the dashboard and the API answer with a CSP without inline script, nosniff, and no framing', async () => {
    for (const url of ['/dashboard/', '/videos/none', '/health']) {
      const a = await call('GET', url);
      const csp = a.headers.get('content-security-policy') ?? '';
      expect({ url, csp }).toEqual({ url, csp: expect.stringContaining("script-src 'self'") });
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(a.headers.get('x-content-type-options')).toBe('nosniff');
      expect(a.headers.get('x-frame-options')).toBe('DENY');
    }
    const page = await call('GET', '/dashboard/');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // every script is a file
    expect(page.text).not.toMatch(/\son[a-z]+=/i); // no inline event handlers
  });
});

describe('dead-letter paging', () => {
  test('following `next` with limit=3 visits every entry once, newest (highest id) first', async () => {
    const repo = new DeadLettersRepo(stack.db.pool);
    for (let i = 1; i <= 11; i++) {
      await repo.record({
        videoId: `page-${i}`,
        workflowId: `video-page-${i}`,
        runId: null,
        step: 'transcode',
        errorType: 'PagingTest',
        message: 'planted',
        attempts: 1,
        input: null,
      });
    }
    const seen: string[] = [];
    let next: string | null = '/dead-letters?type=PagingTest&limit=3';
    while (next) {
      const page = (await call('GET', next.includes('type=') ? next : `${next}&type=PagingTest&limit=3`)).json as DeadLetterListResponse;
      seen.push(...page.items.map((d) => d.videoId));
      next = page.next;
    }
    expect(seen).toEqual(Array.from({ length: 11 }, (_, i) => `page-${11 - i}`));
  });
});

describe('no server paths to clients', () => {
  test('status, list, search and dead letters carry URLs and ids, never an absolute path of the server', async () => {
    expect((await call('POST', '/videos', { body: { videoId: 'harbour-1', source: { kind: 'file', path: 'harbour.mp4' } } })).status).toBe(
      202,
    );
    expect((await call('POST', '/videos', { body: { videoId: 'broken-1', source: { kind: 'file', path: 'broken.mp4' } } })).status).toBe(
      202,
    );
    const ready = await waitForVideo('harbour-1', (s) => s.status === 'ready' || s.status === 'failed');
    expect(ready.status).toBe('ready');
    expect(ready.result).toMatchObject({ rendition: '/videos/harbour-1/rendition.mp4', thumbnail: '/videos/harbour-1/thumbnail.jpg' });
    expect((await call('GET', ready.result!.rendition)).status).toBe(200);
    const failed = await waitForVideo('broken-1', (s) => s.status === 'failed');

    const search = (await call('GET', '/search?q=harbour')).json as SearchResponse;
    expect(search.results.map((r) => r.rendition)).toContain('/videos/harbour-1/rendition.mp4');
    const answers = [ready, failed, search, (await call('GET', '/videos')).json, (await call('GET', '/dead-letters')).json];
    for (const a of answers) {
      const text = JSON.stringify(a);
      expect(text).not.toContain(stack.dataDir);
      // No absolute path at all: a JSON string that starts with "/" is an API URL (/videos/…, /dead-letters/…).
      for (const m of text.matchAll(/"(\/[^"]*)"/g)) expect(m[1]).toMatch(/^\/(videos|dead-letters|search)\b/);
    }
  }, 150_000);
});

describe('CLI against the live API', () => {
  const cli = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: stack.clientEnv });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  test('every command runs, reads the answer it gets, and prints no crash', async () => {
    const created = await cli('--json', 'keys', 'create', '--role', 'viewer', '--name', 'cli-check');
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as KeyCreatedResponse;
    expect(key.key).toMatch(/^bib_/);
    const ok: string[][] = [
      ['keys', 'list'],
      ['--json', 'keys', 'list'],
      ['keys', 'revoke', key.id],
      ['status', 'harbour-1'],
      ['list'],
      ['--json', 'list'],
      ['search', 'harbour'],
      ['--json', 'search', 'harbour'],
      ['dlq', 'list'],
      ['--json', 'dlq', 'list'],
      ['submit', path.join(stack.ingestDir, 'harbour.mp4'), '--id', 'cli-harbour'],
    ];
    for (const args of ok) {
      const r = await cli(...args);
      // stderr carries progress (submit); a failure would be a `biblio: …` line.
      expect({ args, code: r.code, failure: r.stderr.split('\n').filter((l) => /^biblio:|Error/.test(l)) }).toEqual({
        args,
        code: 0,
        failure: [],
      });
    }
    const listed = JSON.parse((await cli('--json', 'keys', 'list')).stdout) as KeyListResponse;
    expect(listed.keys.find((k) => k.id === key.id)?.revokedAt).not.toBeNull();

    const dl = ((await call('GET', '/dead-letters?type=PagingTest&limit=1')).json as DeadLetterListResponse).items[0]!;
    expect((await cli('dlq', 'show', dl.id)).code).toBe(0);
    expect((await cli('dlq', 'discard', dl.id)).code).toBe(0);
    // Refusals are one line naming the typed reason, never a crash.
    for (const [args, type] of [
      [['dlq', 'replay', dl.id], 'DeadLetterNotReplayable'],
      [['refresh-url', 'harbour-1', 'https://example.com/v.mp4'], 'NotAnExternalSource'],
      [['keys', 'create', '--role', 'viewer', '--name', '\u001b[2Jgotcha'], 'ValidationError'],
    ] as const) {
      const r = await cli(...args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(type);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).not.toContain('\u001b');
    }
    expect((await cli('delete', 'cli-harbour')).code).toBe(0);
  }, 150_000);
});

describe('abuse limits', () => {
  test('rotating x-api-key values cannot exceed the per-key limit (600 a minute by default)', async () => {
    const key = ((await call('POST', '/keys', { body: { role: 'viewer', name: 'rotator' } })).json as KeyCreatedResponse).key;
    const statuses: number[] = [];
    for (let batch = 0; batch < 13; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const res = await fetch(`${stack.apiUrl}/videos/none`, {
            headers: { authorization: `Bearer ${key}`, 'x-api-key': randomBytes(16).toString('hex') },
          });
          await res.arrayBuffer();
          return res.status;
        }),
      );
      statuses.push(...answers);
    }
    expect(statuses.filter((s) => s === 404).length).toBeLessThanOrEqual(600);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(50);

    // The key's use was recorded (at most once a minute, off the request path).
    let lastUsedAt: string | null = null;
    for (let i = 0; i < 50 && !lastUsedAt; i++) {
      const keys = ((await call('GET', '/keys')).json as KeyListResponse).keys;
      lastUsedAt = keys.find((k) => key.startsWith(`bib_${k.id}_`))?.lastUsedAt ?? null;
      if (!lastUsedAt) await new Promise((r) => setTimeout(r, 100));
    }
    expect(lastUsedAt).not.toBeNull();
  });

  // Last: it throttles this machine's address for a while.
  test('500 bad keys from one address are throttled: most get 429 without a key lookup, then even a good key waits', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 500; i++) {
      const bad = `bib_${randomBytes(6).toString('hex')}_${randomBytes(32).toString('base64url')}`;
      const a = await call('GET', '/videos/none', { key: bad });
      if (a.status === 429) expect(a.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(isErrorShape(a.json)).toBe(true);
      statuses.push(a.status);
    }
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(20);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(480);
    const good = await call('GET', '/videos/none');
    expect(good.status).toBe(429);
  });
});
