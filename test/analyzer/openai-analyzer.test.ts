import { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ApplicationFailure } from '@temporalio/common';
import { OpenAiAnalyzer, retryDelayMs, toAiFailure } from '../../src/adapters/analyzer/openai-analyzer';
import type { OpenAiConfig } from '../../src/config';
import { sampleFacts } from '../support/facts';
import { faultProvider } from '../support/fault-provider';
import { type OpenAiFaultServer, startOpenAiFaultServer } from '../support/openai-fault-server';

const facts = sampleFacts;
const request = { videoId: 'v1', title: 'Cat on a skateboard', facts };

const SECRET_KEY = 'sk-test-SECRET0123456789abcdef';

let server: OpenAiFaultServer;

beforeEach(async () => {
  server = await startOpenAiFaultServer({ dim: 16 });
});
afterEach(async () => {
  await server.close();
});

function analyzer(overrides: Partial<OpenAiConfig> = {}): OpenAiAnalyzer {
  // Models of its own: the tests check the configured names are the ones sent.
  const { openai } = faultProvider(server, {
    OPENAI_API_KEY: SECRET_KEY,
    OPENAI_CHAT_MODEL: 'test-chat-model',
    OPENAI_EMBEDDING_MODEL: 'test-embedding-model',
    OPENAI_TIMEOUT_MS: '5000',
  });
  return new OpenAiAnalyzer({ ...openai, ...overrides });
}

/** Runs `fn`, expects it to reject, and returns the rejection as an ApplicationFailure. */
async function failureOf(fn: () => Promise<unknown>): Promise<ApplicationFailure> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ApplicationFailure);
  return caught as ApplicationFailure;
}

describe('OpenAiAnalyzer against an OpenAI-compatible server', () => {
  it('identifies itself by the embedding model and as not offline', () => {
    const a = analyzer();
    expect(a.name).toBe('openai');
    expect(a.model).toBe('test-embedding-model');
    expect(a.offline).toBe(false);
  });

  it('returns the summary, tags and an embedding of the server dimension, using the configured models', async () => {
    const result = await analyzer().analyze(request);

    expect(result.summary).toMatch(/^Fault-server summary of /);
    expect(result.tags).toEqual(['fault-server', 'test']);
    expect(result.embedding).toHaveLength(16);
    expect(result.embedding.every(Number.isFinite)).toBe(true);

    expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/embeddings']);
    const [chat, embed] = server.requests;
    expect(chat?.body).toMatchObject({ model: 'test-chat-model', response_format: { type: 'json_object' } });
    expect(JSON.stringify(chat?.body)).toContain('Cat on a skateboard');
    expect(JSON.stringify(chat?.body)).toContain('1920');
    // Asked for floats explicitly, embedding what the chat said.
    expect(embed?.body).toMatchObject({ model: 'test-embedding-model', encoding_format: 'float' });
    expect(JSON.stringify(embed?.body)).toContain('Fault-server summary of');
    expect(chat?.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
  });

  it('embeds queries with the embedding model, deterministically', async () => {
    const a = analyzer();
    const v1 = await a.embedQuery('cat skateboard');
    const v2 = await a.embedQuery('cat skateboard');
    expect(v1).toHaveLength(16);
    expect(v2).toEqual(v1);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[0]?.body).toMatchObject({ model: 'test-embedding-model', input: 'cat skateboard' });
  });

  it('works with a base URL and no API key (keyless local servers)', async () => {
    const result = await analyzer({ apiKey: undefined }).analyze(request);
    expect(result.embedding).toHaveLength(16);
    expect(server.requests).toHaveLength(2);
  });

  it('maps 429 with retry-after: 2 to a retryable AiRateLimited with a 2 s next retry delay, after one request', async () => {
    server.setScript([{ kind: 'status', status: 429, headers: { 'retry-after': '2' } }]);
    const f = await failureOf(() => analyzer().analyze(request));
    expect(f.type).toBe('AiRateLimited');
    expect(f.nonRetryable).toBe(false);
    expect(f.nextRetryDelay).toBe(2000);
    expect(f.message).toContain('429');
    // maxRetries: 0 — the SDK would otherwise retry a 429 twice on its own.
    expect(server.requests).toHaveLength(1);
  });

  it('maps 401 to a non-retryable AiRejected without leaking the key', async () => {
    server.setScript([
      {
        kind: 'status',
        status: 401,
        body: { error: { message: `Incorrect API key provided: ${SECRET_KEY}.`, code: 'invalid_api_key' } },
      },
    ]);
    const f = await failureOf(() => analyzer().analyze(request));
    expect(f.type).toBe('AiRejected');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toContain('401');
    expect(JSON.stringify({ message: f.message, details: f.details, cause: f.cause })).not.toContain('SECRET');
    expect(f.cause).toBeUndefined();
    expect(server.requests).toHaveLength(1);
  });

  it('maps 400 (e.g. unknown model) to AiRejected and keeps the server reason', async () => {
    server.setScript([{ kind: 'status', status: 400, body: { error: { message: 'The model `nope` does not exist' } } }]);
    const f = await failureOf(() => analyzer().analyze(request));
    expect(f.type).toBe('AiRejected');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(/400.*model `nope` does not exist/);
  });

  it('maps 500 to a retryable AiUnavailable after exactly one request', async () => {
    server.setScript([{ kind: 'status', status: 500 }]);
    const f = await failureOf(() => analyzer().analyze(request));
    expect(f.type).toBe('AiUnavailable');
    expect(f.nonRetryable).toBe(false);
    expect(f.message).toContain('500');
    expect(server.requests).toHaveLength(1);
  });

  it('maps a failing embeddings call (after a good chat) to a typed failure', async () => {
    server.setScript([{ kind: 'status', status: 503 }], '/v1/embeddings');
    const f = await failureOf(() => analyzer().analyze(request));
    expect(f.type).toBe('AiUnavailable');
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/embeddings']);
  });

  it('maps a malformed (non-JSON) body to AiUnavailable', async () => {
    server.setScript([{ kind: 'malformed' }]);
    const f = await failureOf(() => analyzer().analyze(request));
    expect(f.type).toBe('AiUnavailable');
    expect(f.nonRetryable).toBe(false);
    expect(server.requests).toHaveLength(1);
  });

  it('maps a non-JSON body labelled text/plain (which the SDK returns as a string) to AiUnavailable', async () => {
    server.setScript([{ kind: 'malformed', contentType: 'text/plain' }]);
    const f = await failureOf(() => analyzer().analyze(request));
    expect(f.type).toBe('AiUnavailable');
  });

  it('maps a chat answer that is not the asked-for JSON, also after its one repair, to AiBadAnswer', async () => {
    for (const content of ['Sure! Here is a summary.', '{"tags": ["x"]}', '{"summary": 42, "tags": []}']) {
      const before = server.requests.length;
      // Issue 25: the answer and its one text-only repair both come back unusable.
      server.setScript([
        { kind: 'content', content },
        { kind: 'content', content },
      ]);
      const f = await failureOf(() => analyzer().analyze(request));
      expect(f.type).toBe('AiBadAnswer');
      expect(server.requests.slice(before).map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
    }
  });

  it('truncates the summary to 300 characters and tags to 8 of at most 40 characters', async () => {
    const content = JSON.stringify({
      summary: 'word '.repeat(200),
      tags: [...Array.from({ length: 12 }, (_, i) => `tag${i}`), 'x'.repeat(100)].reverse(),
    });
    server.setScript([{ kind: 'content', content }]);
    const result = await analyzer().analyze(request);
    expect(Array.from(result.summary).length).toBeLessThanOrEqual(300);
    expect(result.summary.length).toBeGreaterThan(250);
    expect(result.tags).toHaveLength(8);
    expect(result.tags.every((t) => t.length <= 40)).toBe(true);
    expect(result.tags[0]).toBe('x'.repeat(40));
  });

  it('accepts a JSON answer wrapped in a Markdown fence', async () => {
    server.setScript([{ kind: 'content', content: '```json\n{"summary": "A cat.", "tags": ["cat"]}\n```' }]);
    const result = await analyzer().analyze(request);
    expect(result.summary).toBe('A cat.');
    expect(result.tags).toEqual(['cat']);
  });

  it('gives up on a hanging server with AiUnavailable within the timeout, after one request', async () => {
    server.setScript([{ kind: 'hang' }]);
    const started = Date.now();
    const f = await failureOf(() => analyzer({ timeoutMs: 300 }).analyze(request));
    const elapsed = Date.now() - started;
    expect(f.type).toBe('AiUnavailable');
    expect(f.message).toMatch(/timed out/);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
    expect(server.requests).toHaveLength(1);
  });

  it('gives up on a server that sends headers and then stalls the body (the SDK timeout stops at headers)', async () => {
    server.setScript([{ kind: 'stall' }]);
    const started = Date.now();
    const f = await failureOf(() => analyzer({ timeoutMs: 300 }).analyze(request));
    expect(f.type).toBe('AiUnavailable');
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('succeeds when the server is slow but within the timeout', async () => {
    server.setScript([{ kind: 'slow', ms: 100 }]);
    const result = await analyzer({ timeoutMs: 2_000 }).analyze(request);
    expect(result.embedding).toHaveLength(16);
  });

  it('lets the caller abort propagate as the abort itself, not as an AI failure', async () => {
    server.setScript([{ kind: 'hang' }]);
    const controller = new AbortController();
    const reason = new Error('activity cancelled');
    reason.name = 'AbortError';
    setTimeout(() => controller.abort(reason), 100);
    const started = Date.now();
    await expect(analyzer().analyze({ ...request, signal: controller.signal })).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(server.requests).toHaveLength(1);
  });

  it('does not send anything when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const err: unknown = await analyzer()
      .embedQuery('x', controller.signal)
      .catch((e: unknown) => e);
    // The signal's own reason (a DOMException named AbortError, which Temporal treats as
    // cancellation); checked by name because Jest's sandbox has its own Error class.
    expect(err).toBe(controller.signal.reason);
    expect((err as { name?: unknown }).name).toBe('AbortError');
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(server.requests).toHaveLength(0);
  });

  it('maps an unreachable server to AiUnavailable', async () => {
    const url = server.url;
    await server.close();
    const f = await failureOf(() => analyzer({ baseURL: url }).embedQuery('x'));
    expect(f.type).toBe('AiUnavailable');
    server = await startOpenAiFaultServer(); // for afterEach
  });
});

describe('toAiFailure', () => {
  const headers = (h: Record<string, string> = {}): Headers => new Headers(h);
  const asFailure = (err: unknown): ApplicationFailure => {
    const f = toAiFailure(err);
    expect(f).toBeInstanceOf(ApplicationFailure);
    return f as ApplicationFailure;
  };

  it.each([
    [400, 'AiRejected', true],
    [401, 'AiRejected', true],
    [403, 'AiRejected', true],
    [404, 'AiUnsupported', true],
    [405, 'AiUnsupported', true],
    [501, 'AiUnsupported', true],
    [422, 'AiRejected', true],
    [408, 'AiUnavailable', false],
    [429, 'AiRateLimited', false],
    [500, 'AiUnavailable', false],
    [502, 'AiUnavailable', false],
    [503, 'AiUnavailable', false],
  ])('maps HTTP %i to %s (nonRetryable %s) with the status in the message', (status, type, nonRetryable) => {
    const f = asFailure(APIError.generate(status, { error: { message: 'nope' } }, undefined, headers()));
    expect(f.type).toBe(type);
    expect(f.nonRetryable).toBe(nonRetryable);
    expect(f.message).toContain(String(status));
  });

  it('reads retry-after-ms first, then retry-after seconds, then an HTTP date; caps at 5 minutes', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryDelayMs(headers({ 'retry-after-ms': '1500', 'retry-after': '9' }), now)).toBe(1500);
    expect(retryDelayMs(headers({ 'retry-after': '2' }), now)).toBe(2000);
    expect(retryDelayMs(headers({ 'retry-after': '0.25' }), now)).toBe(250);
    expect(retryDelayMs(headers({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), now)).toBe(30_000);
    expect(retryDelayMs(headers({ 'retry-after': '3600' }), now)).toBe(300_000);
    expect(retryDelayMs(headers({ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }), now)).toBeUndefined();
    expect(retryDelayMs(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryDelayMs(headers(), now)).toBeUndefined();
  });

  it('leaves the retry delay to the policy when a 429 has no retry-after', () => {
    const f = asFailure(APIError.generate(429, undefined, undefined, headers()));
    expect(f.type).toBe('AiRateLimited');
    expect(f.nextRetryDelay).toBeUndefined();
  });

  it('maps timeouts, syntax errors and unknown errors to AiUnavailable without a cause', () => {
    for (const err of [new APIConnectionTimeoutError(), new SyntaxError('Unexpected token'), new TypeError('boom')]) {
      const f = asFailure(err);
      expect(f.type).toBe('AiUnavailable');
      expect(f.nonRetryable).toBe(false);
      expect(f.cause).toBeUndefined();
    }
  });

  it('returns aborts unchanged', () => {
    const abort = new APIUserAbortError();
    expect(toAiFailure(abort)).toBe(abort);
  });

  it('redacts key-shaped strings from server reasons', () => {
    const f = asFailure(APIError.generate(400, { error: { message: `bad request for sk-proj-abc123XYZ` } }, undefined, headers()));
    expect(f.message).not.toContain('abc123XYZ');
    expect(f.message).toContain('[redacted]');
  });
});
