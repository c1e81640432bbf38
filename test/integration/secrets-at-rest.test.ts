import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Payload } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { loadDataConverter } from '../../src/temporal/data-converter';
import { workflowIdFor } from '../../src/workflows/ids';
import { startHttpStack, type HttpStack } from '../support/http-stack';
import { makeTinyClip } from '../support/media';

// Issue 26: a source URL's credentials and signatures must not be kept anywhere in plaintext —
// not in the database (dead letters included), not in any process log, not in the Temporal
// history even when decoded with the project's own payload codec (which operators and the Web
// UI's codec server hold). Real parts: the API process, the four worker processes, Temporal,
// PostgreSQL (read with pg_dump).

const run = promisify(execFile);
const secret = (tag: string) => `${tag}${randomBytes(9).toString('hex')}`;
const SECRETS = {
  password: secret('pw'),
  amzSignature: secret('amzsig'),
  amzCredential: secret('AKIA'),
  token: secret('tok'),
  sig: secret('sig'),
};
// The control: planted where every search below must find it, so a search that finds nothing
// proves it looked (a video id is plaintext in the database, the history and the worker logs).
const CANARY = `canary-${randomBytes(6).toString('hex')}`;

let stack: HttpStack;
let server: http.Server;
let origin: string;
const seen: { url: string; authorization: string }[] = [];

beforeAll(async () => {
  // The "external" host: it answers 404, so every run fails for good (SourceNotFound → dead letter).
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', authorization: req.headers.authorization ?? '' });
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `localhost:${(server.address() as AddressInfo).port}`;
  // URL sources may reach a private host only when allowed: the test's server is on loopback.
  stack = await startHttpStack('secrets', { env: { BIBLIO_SSRF_ALLOW: 'localhost' } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await new Promise((r) => server?.close(r));
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${stack.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
}

/** The whole history of a run as text, every payload decoded with the project's codec. */
async function decodedHistory(videoId: string): Promise<string> {
  const converter = await loadDataConverter({ dataDir: stack.dataDir });
  const codec = converter.payloadCodecs?.[0];
  if (!codec) throw new Error('the project has no payload codec');
  const history = await stack.env.client.workflow.getHandle(workflowIdFor(videoId)).fetchHistory();
  const texts: string[] = [JSON.stringify(historyToJSON(history))];
  const visit = async (node: unknown): Promise<void> => {
    if (!node || typeof node !== 'object') return;
    if (node instanceof Uint8Array) return;
    const maybe = node as Partial<Payload>;
    if (maybe.data instanceof Uint8Array && maybe.metadata && typeof maybe.metadata === 'object') {
      const [plain] = await codec.decode([maybe as Payload]);
      texts.push(Buffer.from(plain?.data ?? []).toString('utf8'));
      return;
    }
    for (const v of Object.values(node)) await visit(v);
  };
  await visit(history);
  return texts.join('\n');
}

test('URLs with user:password@ and signature parameters fail into the dead-letter queue; no secret is stored anywhere', async () => {
  const urls: Record<string, string> = {
    [`${CANARY}-basic`]: `http://alice:${SECRETS.password}@${origin}/clips/basic.mp4`,
    [`${CANARY}-s3`]: `http://${origin}/clips/s3.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${SECRETS.amzCredential}&X-Amz-Signature=${SECRETS.amzSignature}`,
    [`${CANARY}-token`]: `http://${origin}/clips/token.mp4?token=${SECRETS.token}&sig=${SECRETS.sig}`,
  };
  for (const [videoId, url] of Object.entries(urls)) {
    const res = await api('POST', '/videos', { videoId, source: { kind: 'url', url } });
    expect(res.status).toBe(202);
  }

  // Every run ends in the dead-letter queue.
  let items: { videoId: string; errorType: string; source: { url?: string } | null }[] = [];
  for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
    items = ((await api('GET', '/dead-letters?limit=50')).json as { items: typeof items }).items;
    if (items.filter((i) => i.videoId.startsWith(CANARY)).length === 3) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(items.filter((i) => i.videoId.startsWith(CANARY)).map((i) => i.errorType)).toEqual([
    'SourceNotFound',
    'SourceNotFound',
    'SourceNotFound',
  ]);

  // The media worker did fetch with the real secrets: the sealed URL was opened where it is needed.
  const fetched = seen.map((s) => `${s.url} ${Buffer.from(s.authorization.replace(/^Basic /, ''), 'base64').toString()}`).join('\n');
  for (const s of Object.values(SECRETS)) expect(fetched).toContain(s);

  const { stdout: dump } = await run('pg_dump', ['--no-owner', stack.db.url], { maxBuffer: 256 * 1024 * 1024 });
  const logs = [stack.apiOutput(), ...stack.workers.output.values()].join('\n');
  const history = (await Promise.all(Object.keys(urls).map(decodedHistory))).join('\n');
  const places = { pg_dump: dump, 'process logs': logs, 'decoded Temporal history': history };

  for (const [where, text] of Object.entries(places)) {
    // The control: each search does see what is there.
    expect({ where, found: text.includes(CANARY) }).toEqual({ where, found: true });
    for (const [name, value] of Object.entries(SECRETS)) {
      expect({ where, name, found: text.includes(value) }).toEqual({ where, name, found: false });
    }
  }
});

test("an upload's signed GET URL is sealed in the history: the run fetches it, the decoded history has no signature", async () => {
  const videoId = `${CANARY}-upload`;
  const clip = path.join(stack.ingestDir, 'upload-secret.mp4');
  await makeTinyClip(clip, 2);
  const bytes = await readFile(clip);
  const opened = await api('POST', '/uploads', { contentType: 'video/mp4', sizeBytes: bytes.length, videoId });
  expect(opened.status).toBe(201);
  const ticket = opened.json as {
    upload: { method: string; url: string; headers: Record<string, string> };
    complete: { method: string; url: string };
    next: { body: unknown };
  };
  expect(ticket.upload.method).toBe('PUT');
  expect((await fetch(ticket.upload.url, { method: 'PUT', headers: ticket.upload.headers, body: bytes })).ok).toBe(true);
  expect((await api(ticket.complete.method, new URL(ticket.complete.url, stack.apiUrl).pathname, {})).status).toBe(200);
  expect((await api('POST', '/videos', ticket.next.body)).status).toBe(202);

  let status = '';
  for (const deadline = Date.now() + 120_000; Date.now() < deadline && status !== 'ready' && status !== 'failed';) {
    status = ((await api('GET', `/videos/${videoId}`)).json as { status: string }).status;
    await new Promise((r) => setTimeout(r, 500));
  }
  // Ready: the media worker opened the sealed URL and fetched the object with its signature.
  expect(status).toBe('ready');
  const history = await decodedHistory(videoId);
  // The control: the history does name the upload (its key) …
  expect(history).toContain(`uploads/${videoId}/`);
  // … but no signed transfer URL of the local store (`?m=GET&e=…&s=<signature>`) is readable in it.
  expect(history).not.toMatch(/[?&]m=GET&e=\d+/);
  expect(history).toContain('sealed:v1:');
});
