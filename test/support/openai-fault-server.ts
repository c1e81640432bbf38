import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scriptable stand-in for an OpenAI-compatible API, so tests can make the service throttle,
 * fail, hang or talk nonsense on cue, and count exactly how many requests reached it.
 */
export type FaultStep =
  | { kind: 'ok' }
  /** Answers with this status; body defaults to an OpenAI-style `{error: {...}}`. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: unknown }
  /** Never answers (until close()). */
  | { kind: 'hang' }
  /** Answers 'ok' after `ms`. */
  | { kind: 'slow'; ms: number }
  /** 200 with a body that is not JSON, labelled as `contentType` (default application/json). */
  | { kind: 'malformed'; contentType?: string }
  /** Sends 200 and headers, then never finishes the body (until close()). */
  | { kind: 'stall' }
  /** A well-formed chat completion whose message content is exactly this string. */
  | { kind: 'content'; content: string };

export type FaultPath = '/v1/chat/completions' | '/v1/embeddings' | '/v1/audio/transcriptions';

/** 429 for a billing problem, as OpenAI sends it (a "rate limit" that no retry fixes). */
export const INSUFFICIENT_QUOTA: FaultStep = {
  kind: 'status',
  status: 429,
  body: {
    error: {
      message: 'You exceeded your current quota, please check your plan and billing details.',
      type: 'insufficient_quota',
      code: 'insufficient_quota',
    },
  },
};

/** A provider-side quota: a fixed window that starts with the first request after the previous one ended (as OpenAI reports it). */
export interface QuotaOptions {
  requestsPerWindow: number;
  tokensPerWindow?: number;
  windowMs: number;
}

/** Every request arriving in [from, to) (epoch ms) gets `step`, whatever the scripts say: storms, outages, hangs. */
export interface FaultWindow {
  from: number;
  to: number;
  step: FaultStep;
  /** Only requests to this path (default: all). */
  path?: FaultPath;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it did not parse (multipart: the parsed fields and file size). */
  body: unknown;
  at: number;
  /** Status the server answered with (undefined while hanging). */
  status?: number;
  /** Chat requests: how many image parts the user message carried. */
  imageParts?: number;
  /** When the client gave up on an unanswered request (hang/stall): the call's deadline at work. */
  closedAt?: number;
  /** Transcription requests: size and name of the uploaded audio file. */
  file?: { name: string; bytes: number };
  /** The x-request-id this request was answered with (every request gets one, as OpenAI does). */
  requestId: string;
}

/** What the provider charged for one answered request (issue 25: the ledger must match this). */
export interface BilledRequest {
  requestId: string;
  path: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  audioSeconds: number;
  at: number;
}

export interface FaultServerOptions {
  /** Length of the vectors /v1/embeddings returns. */
  dim?: number;
  /**
   * Answers an 'ok' transcription request in place of the fixed fake text: given the uploaded
   * audio's bytes and the form fields, returns the body to send (e.g. verbose_json from a real
   * local speech model, test/support/local-speech.ts).
   */
  transcribe?: (audio: Buffer, fields: Record<string, string>) => Promise<unknown>;
}

export interface OpenAiFaultServer {
  /** Base URL ending in /v1, as OpenAI clients expect. */
  url: string;
  /** Replaces the queue of behaviours: for one path, or (no path) shared by all paths. */
  setScript(steps: FaultStep[], path?: FaultPath): void;
  /** A provider quota with x-ratelimit-* headers on every answer and 429 + Retry-After past it; null removes it. */
  setQuota(q: QuotaOptions | null): void;
  /** Adds a timed fault window (see FaultWindow). */
  addWindow(w: FaultWindow): void;
  clearWindows(): void;
  /** How many requests the quota turned away with 429. */
  quotaRejections(): number;
  /**
   * Makes the server lack a route, as many OpenAI-compatible servers lack /v1/audio/transcriptions:
   * every request to `path` is answered `status` (404 by default; some servers say 400 or 405); null restores it.
   */
  setRouteMissing(path: FaultPath, status?: number | null): void;
  requests: RecordedRequest[];
  /** Every answer the provider charged for: 200s with a usage block (chat, embeddings, transcription). */
  billed: BilledRequest[];
  close(): Promise<void>;
}

export async function startOpenAiFaultServer(opts: FaultServerOptions = {}): Promise<OpenAiFaultServer> {
  const dim = opts.dim ?? 16;
  let shared: FaultStep[] = [];
  const perPath = new Map<string, FaultStep[]>();
  const requests: RecordedRequest[] = [];
  const billed: BilledRequest[] = [];
  const missing = new Map<string, number>();
  let requestCounter = 0;
  const timers = new Set<NodeJS.Timeout>();

  const nextStep = (path: string): FaultStep => perPath.get(path)?.shift() ?? shared.shift() ?? { kind: 'ok' };

  let quota: QuotaOptions | null = null;
  let window = { start: 0, end: 0, requests: 0, tokens: 0 };
  let rejections = 0;
  let windows: FaultWindow[] = [];

  /** Fixed window: it opens with the first request after the previous one closed. */
  function quotaHeaders(now: number, tokens: number): { ok: boolean; headers: Record<string, string> } {
    if (!quota) return { ok: true, headers: {} };
    if (now >= window.end) window = { start: now, end: now + quota.windowMs, requests: 0, tokens: 0 };
    const tokenLimit = quota.tokensPerWindow ?? 1_000_000_000;
    const ok = window.requests + 1 <= quota.requestsPerWindow && window.tokens + tokens <= tokenLimit;
    if (ok) {
      window.requests += 1;
      window.tokens += tokens;
    }
    const reset = `${((window.end - now) / 1000).toFixed(3)}s`;
    return {
      ok,
      headers: {
        'x-ratelimit-limit-requests': String(quota.requestsPerWindow),
        'x-ratelimit-remaining-requests': String(Math.max(0, quota.requestsPerWindow - window.requests)),
        'x-ratelimit-reset-requests': reset,
        'x-ratelimit-limit-tokens': String(tokenLimit),
        'x-ratelimit-remaining-tokens': String(Math.max(0, tokenLimit - window.tokens)),
        'x-ratelimit-reset-tokens': reset,
        ...(ok ? {} : { 'retry-after-ms': String(window.end - now), 'retry-after': String(Math.ceil((window.end - now) / 1000)) }),
      },
    };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const buf = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const multipart = parseMultipart(req.headers['content-type'], buf);
      const body = multipart ? multipart.fields : parseJson(buf.toString('utf8'));
      const now = Date.now();
      const requestId = `req_fault_${process.pid}_${++requestCounter}`;
      const record: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, at: now, requestId };
      res.setHeader('x-request-id', requestId);
      if (multipart?.file) record.file = multipart.file;
      if (path === '/v1/chat/completions') record.imageParts = countImageParts(body);
      requests.push(record);
      res.on('finish', () => {
        record.status = res.statusCode;
      });
      res.on('close', () => {
        if (!res.writableFinished) record.closedAt = Date.now();
      });
      if (req.method !== 'POST' || !ROUTES.has(path) || missing.has(path)) {
        const status = missing.get(path) ?? 404;
        return sendJson(res, status, { error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } });
      }
      const timed = windows.find((w) => now >= w.from && now < w.to && (!w.path || w.path === path));
      if (timed) return act(timed.step, path, body, res, {});
      const q = quotaHeaders(now, estimateTokens(path, body));
      if (!q.ok) {
        rejections += 1;
        return sendJson(
          res,
          429,
          { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } },
          q.headers,
        );
      }
      const step = nextStep(path);
      if (step.kind === 'ok' && path === '/v1/audio/transcriptions' && opts.transcribe && multipart?.audio) {
        opts.transcribe(multipart.audio, multipart.fields).then(
          (out) => answer(res, path, body, out, q.headers),
          (err: Error) => sendJson(res, 500, { error: { message: `local transcription failed: ${err.message}`, type: 'server_error' } }),
        );
        return;
      }
      act(step, path, body, res, q.headers);
    });
  });

  /** A 200 answer the provider charges for: logged with what its usage block says, under the request's id. */
  function answer(res: http.ServerResponse, path: string, body: unknown, out: unknown, extra: Record<string, string>): void {
    const usage = isRecord(out) && isRecord(out['usage']) ? out['usage'] : undefined;
    if (usage) {
      const n = (k: string) => (typeof usage[k] === 'number' ? usage[k] : 0);
      billed.push({
        requestId: String(res.getHeader('x-request-id')),
        path,
        model: field(body, 'model') ?? 'unknown',
        inputTokens: n('prompt_tokens') + n('input_tokens'),
        outputTokens: n('completion_tokens') + n('output_tokens'),
        audioSeconds: usage['type'] === 'duration' ? n('seconds') : 0,
        at: Date.now(),
      });
    }
    sendJson(res, 200, out, extra);
  }

  /** The 'ok' answer (a chat answer looks at its images first, so it comes later). */
  function answerOk(res: http.ServerResponse, path: string, body: unknown, extra: Record<string, string>): void {
    okResponse(path, body, dim).then(
      (out) => {
        if (!res.destroyed) answer(res, path, body, out, extra);
      },
      (err: Error) => sendJson(res, 500, { error: { message: `fault server failed: ${err.message}`, type: 'server_error' } }),
    );
  }

  function act(step: FaultStep, path: string, body: unknown, res: http.ServerResponse, extra: Record<string, string>): void {
    switch (step.kind) {
      case 'ok':
        return answerOk(res, path, body, extra);
      case 'content':
        return answer(res, path, body, chatResponse(body, step.content), extra);
      case 'status':
        return sendJson(
          res,
          step.status,
          step.body ?? { error: { message: `fault ${step.status}`, type: 'fault', code: null } },
          step.headers,
        );
      case 'malformed':
        res.writeHead(200, { 'content-type': step.contentType ?? 'application/json' });
        res.end('{"choices": [ this is not json');
        return;
      case 'slow': {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed) answerOk(res, path, body, extra);
        }, step.ms);
        timers.add(t);
        return;
      }
      case 'stall':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id": "stalled", ');
        return;
      case 'hang':
        return;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    setScript(steps, path) {
      if (path) perPath.set(path, [...steps]);
      else shared = [...steps];
    },
    setQuota(q) {
      quota = q;
      window = { start: 0, end: 0, requests: 0, tokens: 0 };
    },
    addWindow(w) {
      windows.push(w);
    },
    clearWindows() {
      windows = [];
    },
    quotaRejections: () => rejections,
    setRouteMissing(path, status = 404) {
      if (status === null) missing.delete(path);
      else missing.set(path, status);
    },
    requests,
    billed,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Hanging and stalled responses, and clients' keep-alive sockets, would keep close() waiting.
      server.closeAllConnections();
      await closed;
    },
  };
}

const ROUTES = new Set<string>(['/v1/chat/completions', '/v1/embeddings', '/v1/audio/transcriptions']);

/** What the fault server says it heard in an audio file: names the file, so tests can trace chunks. */
export function fakeTranscript(fileName: string): string {
  return `spoken words from ${fileName}: the harbour cranes lift containers at dawn.`;
}

async function okResponse(path: string, body: unknown, dim: number): Promise<unknown> {
  if (path === '/v1/embeddings') return embeddingsResponse(body, dim);
  if (path === '/v1/audio/transcriptions') {
    const name = isRecord(body) && typeof body['fileName'] === 'string' ? body['fileName'] : 'audio';
    return { text: fakeTranscript(name), usage: { type: 'duration', seconds: 1 } };
  }
  const userText = lastUserMessage(body);
  const images = countImageParts(body);
  const seen = await describeImages(body);
  const times = keyframeTimes(userText);
  const content = JSON.stringify({
    summary: `Fault-server summary of ${userText.slice(0, 60)} [${images} keyframes seen]`,
    tags: ['fault-server', 'test'],
    chapters: [
      { startSec: 0, title: 'Opening' },
      { startSec: 1, title: 'Cranes at work' },
    ],
    // One line per image, at the time the request gives it: what a vision model is asked for.
    shots: seen.map((description, i) => ({ atSec: times[i] ?? i, description })),
  });
  return chatResponse(body, content);
}

/**
 * The fault server's "vision": each image part's dominant colour, named plainly ("a mostly red
 * frame"). ffmpeg averages the JPEG down to one rgb24 pixel (area scaling: every pixel counts).
 * Bytes that are no JPEG (unit tests send placeholders) are not decoded: no ffmpeg in the unit layer.
 */
async function describeImages(body: unknown): Promise<string[]> {
  return Promise.all(
    imageUrls(body).map(async (url) => {
      const bytes = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
      if (bytes.length < 3 || bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return 'an unreadable frame';
      const pixel = await averagePixel(bytes).catch(() => undefined);
      return pixel ? `a mostly ${colourName(pixel)} frame` : 'an unreadable frame';
    }),
  );
}

const COLOURS: [string, [number, number, number]][] = [
  ['black', [0, 0, 0]],
  ['white', [255, 255, 255]],
  ['grey', [128, 128, 128]],
  ['red', [255, 0, 0]],
  ['green', [0, 128, 0]],
  ['green', [0, 255, 0]],
  ['blue', [0, 0, 255]],
  ['yellow', [255, 255, 0]],
];

/** The palette colour nearest `rgb` (Euclidean in RGB: coarse, and enough for flat test pictures). */
export function colourName(rgb: readonly [number, number, number]): string {
  let best = COLOURS[0]!;
  let bestDistance = Infinity;
  for (const c of COLOURS) {
    const d = c[1].reduce((sum, v, i) => sum + (v - rgb[i]!) ** 2, 0);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best[0];
}

function averagePixel(jpeg: Buffer): Promise<[number, number, number]> {
  return new Promise((resolve, reject) => {
    const args = [
      '-v',
      'error',
      '-i',
      'pipe:0',
      '-vf',
      'scale=1:1:flags=area',
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ];
    const ff = spawn(process.env.FFMPEG_PATH ?? 'ffmpeg', args, { stdio: ['pipe', 'pipe', 'ignore'] });
    const out: Buffer[] = [];
    ff.stdout.on('data', (c: Buffer) => out.push(c));
    ff.on('error', reject);
    ff.on('close', (code) => {
      const px = Buffer.concat(out);
      if (code !== 0 || px.length < 3) return reject(new Error(`ffmpeg could not decode the image (exit ${code})`));
      resolve([px[0]!, px[1]!, px[2]!]);
    });
    ff.stdin.on('error', () => undefined);
    ff.stdin.end(jpeg);
  });
}

/** keyframeTimesSec of the analyzer's user message (JSON), or none. */
function keyframeTimes(userText: string): number[] {
  const json = parseJson(userText.trim());
  const times = isRecord(json) ? json['keyframeTimesSec'] : undefined;
  return Array.isArray(times) ? times.filter((t): t is number => typeof t === 'number') : [];
}

/** Rough prompt tokens as a provider would count them: 4 characters a token, 85 per low-detail image. */
function estimateTokens(path: string, body: unknown): number {
  if (path === '/v1/audio/transcriptions') return 0;
  const text = typeof body === 'string' ? body : JSON.stringify(stripImages(body));
  const maxOut = isRecord(body) && typeof body['max_tokens'] === 'number' ? body['max_tokens'] : 0;
  return Math.ceil(text.length / 4) + countImageParts(body) * 85 + maxOut;
}

function stripImages(body: unknown): unknown {
  return JSON.parse(JSON.stringify(body ?? null, (k, v: unknown) => (k === 'image_url' ? '[image]' : v)));
}

function countImageParts(body: unknown): number {
  return imageUrls(body).length;
}

/** The data URLs of the request's image parts, in order. */
function imageUrls(body: unknown): string[] {
  const messages = isRecord(body) ? body['messages'] : undefined;
  if (!Array.isArray(messages)) return [];
  const urls: string[] = [];
  for (const m of messages) {
    const content = isRecord(m) ? m['content'] : undefined;
    if (!Array.isArray(content)) continue;
    for (const part of content) {
      const url = isRecord(part) && isRecord(part['image_url']) ? part['image_url']['url'] : undefined;
      if (isRecord(part) && part['type'] === 'image_url' && typeof url === 'string' && url.startsWith('data:image/')) urls.push(url);
    }
  }
  return urls;
}

/** Just enough multipart/form-data for the transcription upload: text fields, and the file's name and size. */
function parseMultipart(
  contentType: string | undefined,
  buf: Buffer,
): { fields: Record<string, string>; file?: { name: string; bytes: number }; audio?: Buffer } | undefined {
  const m = /multipart\/form-data;\s*boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType ?? '');
  if (!m) return undefined;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  const fields: Record<string, string> = {};
  let file: { name: string; bytes: number } | undefined;
  let audio: Buffer | undefined;
  let pos = buf.indexOf(boundary);
  while (pos >= 0) {
    const next = buf.indexOf(boundary, pos + boundary.length);
    if (next < 0) break;
    const part = buf.subarray(pos + boundary.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const head = part.subarray(0, headerEnd).toString('utf8');
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]*)"/.exec(head)?.[1] ?? '';
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    if (filename !== undefined) {
      file = { name: filename, bytes: content.length };
      audio = Buffer.from(content);
      fields['fileName'] = filename;
    } else fields[name] = content.toString('utf8');
    pos = next;
  }
  return { fields, ...(file ? { file, audio } : {}) };
}

function chatResponse(body: unknown, content: string): unknown {
  return {
    id: 'chatcmpl-fault',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: field(body, 'model') ?? 'unknown',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: {
      prompt_tokens:
        estimateTokens('/v1/chat/completions', body) - (isRecord(body) && typeof body['max_tokens'] === 'number' ? body['max_tokens'] : 0),
      completion_tokens: Math.ceil(content.length / 4),
      total_tokens: 0,
    },
  };
}

function embeddingsResponse(body: unknown, dim: number): unknown {
  const input = isRecord(body) ? body['input'] : undefined;
  const inputs = Array.isArray(input) ? input.map(String) : [String(input ?? '')];
  const base64 = field(body, 'encoding_format') === 'base64';
  return {
    object: 'list',
    model: field(body, 'model') ?? 'unknown',
    data: inputs.map((text, index) => {
      const v = fakeVector(text, dim);
      return {
        object: 'embedding',
        index,
        embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v,
      };
    }),
    usage: { prompt_tokens: 1, total_tokens: 1 },
  };
}

/** Same text → same vector; different texts → (almost surely) different vectors. */
export function fakeVector(text: string, dim: number): number[] {
  const v: number[] = [];
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  for (let i = 0; i < dim; i++) {
    h = Math.imul(h ^ (i + 1), 0x01000193);
    v.push(((h >>> 0) / 0xffffffff) * 2 - 1);
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

function lastUserMessage(body: unknown): string {
  const messages = isRecord(body) ? body['messages'] : undefined;
  if (!Array.isArray(messages)) return '';
  const user = messages.filter((m) => isRecord(m) && m['role'] === 'user').pop();
  const content = isRecord(user) ? user['content'] : undefined;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (isRecord(p) && p['type'] === 'text' && typeof p['text'] === 'string' ? p['text'] : '')).join(' ');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function field(body: unknown, key: string): string | undefined {
  const v = isRecord(body) ? body[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
