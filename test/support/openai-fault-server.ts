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

export type FaultPath = '/v1/chat/completions' | '/v1/embeddings';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when it did not parse. */
  body: unknown;
  at: number;
}

export interface FaultServerOptions {
  /** Length of the vectors /v1/embeddings returns. */
  dim?: number;
}

export interface OpenAiFaultServer {
  /** Base URL ending in /v1, as OpenAI clients expect. */
  url: string;
  /** Replaces the queue of behaviours: for one path, or (no path) shared by all paths. */
  setScript(steps: FaultStep[], path?: FaultPath): void;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startOpenAiFaultServer(opts: FaultServerOptions = {}): Promise<OpenAiFaultServer> {
  const dim = opts.dim ?? 16;
  let shared: FaultStep[] = [];
  const perPath = new Map<string, FaultStep[]>();
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const nextStep = (path: string): FaultStep => perPath.get(path)?.shift() ?? shared.shift() ?? { kind: 'ok' };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const body = parseJson(raw);
      requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body, at: Date.now() });
      if (req.method !== 'POST' || !ROUTES.has(path)) {
        return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } });
      }
      act(nextStep(path), path, body, res);
    });
  });

  function act(step: FaultStep, path: string, body: unknown, res: http.ServerResponse): void {
    switch (step.kind) {
      case 'ok':
        return sendJson(res, 200, okResponse(path, body, dim));
      case 'content':
        return sendJson(res, 200, chatResponse(body, step.content));
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
          if (!res.destroyed) sendJson(res, 200, okResponse(path, body, dim));
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
    requests,
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

const ROUTES = new Set<string>(['/v1/chat/completions', '/v1/embeddings']);

function okResponse(path: string, body: unknown, dim: number): unknown {
  if (path === '/v1/embeddings') return embeddingsResponse(body, dim);
  const userText = lastUserMessage(body);
  const content = JSON.stringify({
    summary: `Fault-server summary of ${userText.slice(0, 60)}`,
    tags: ['fault-server', 'test'],
  });
  return chatResponse(body, content);
}

function chatResponse(body: unknown, content: string): unknown {
  return {
    id: 'chatcmpl-fault',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: field(body, 'model') ?? 'unknown',
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
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
  return isRecord(user) && typeof user['content'] === 'string' ? user['content'] : '';
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
