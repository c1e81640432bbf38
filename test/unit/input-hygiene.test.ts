import net from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { answerClientError, answerFrameworkError } from '../../src/api/framework-errors';
import { HttpError } from '../../src/api/http-error';
import { controlCharAt, installInputHygiene } from '../../src/api/input-hygiene';

// The hygiene hooks and the framework's error answers on a bare fastify app (no auth, no DB):
// test/integration/api-hygiene.test.ts runs the same on the real API.
async function app(): Promise<FastifyInstance> {
  const a = Fastify({ frameworkErrors: answerFrameworkError, clientErrorHandler: answerClientError });
  installInputHygiene(a);
  a.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) =>
    err instanceof HttpError ? reply.status(err.status).send(err.toBody()) : reply.status(err.statusCode ?? 500).send({ other: true }),
  );
  a.get('/things/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  a.post('/things', async (req) => ({ got: req.body }));
  return a;
}

test('control characters anywhere in path, query or JSON body are a 400 ValidationError', async () => {
  const a = await app();
  for (const req of [
    { method: 'GET' as const, url: '/things/a%00b' },
    { method: 'GET' as const, url: '/things/a?tags=a%00b' },
    { method: 'GET' as const, url: '/things/a?x=%1B%5B2J' },
    { method: 'GET' as const, url: '/things/%C2%9B2J' },
    { method: 'POST' as const, url: '/things', payload: { name: 'a\u0000b' } },
    { method: 'POST' as const, url: '/things', payload: { deep: [{ x: '\u001b[31m' }] } },
    { method: 'POST' as const, url: '/things', payload: { ['k\u0007']: 1 } },
  ]) {
    const res = await a.inject(req);
    expect({ url: req.url, status: res.statusCode, type: res.json().error?.type }).toEqual({
      url: req.url,
      status: 400,
      type: 'ValidationError',
    });
  }
  expect((await a.inject({ method: 'POST', url: '/things', payload: { name: 'plain ünïcode 🎬' } })).statusCode).toBe(200);
});

test('invalid percent-encoding or UTF-8 in the URL is a 400 MalformedUrl; a path id over the limit a 414 in the error shape', async () => {
  const a = await app();
  const bad = await a.inject({ method: 'GET', url: '/things/x?q=%C3%28' });
  expect([bad.statusCode, bad.json().error.type]).toEqual([400, 'MalformedUrl']);
  const long = await a.inject({ method: 'GET', url: `/things/${'v'.repeat(500)}` });
  expect([long.statusCode, long.json().error.type]).toEqual([414, 'UriTooLong']);
});

test('a request Node cannot parse is answered in the error shape', async () => {
  const a = await app();
  await a.listen({ port: 0, host: '127.0.0.1' });
  try {
    const port = (a.server.address() as net.AddressInfo).port;
    const raw = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      let got = '';
      s.on('data', (c) => (got += c.toString()));
      s.on('close', () => resolve(got));
      s.on('error', reject);
      s.write('POST /things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}garbage');
    });
    const last = raw.split('HTTP/1.1 ').filter(Boolean).at(-1) ?? '';
    expect(last.slice(0, 3)).toBe('400');
    expect(JSON.parse(last.slice(last.indexOf('\r\n\r\n') + 4))).toEqual({
      error: expect.objectContaining({ type: 'BadRequest', videoId: null }),
    });
  } finally {
    await a.close();
  }
});

test('a JSON body that is not valid UTF-8 is a 400, not a name full of U+FFFD', async () => {
  const a = await app();
  const res = await a.inject({
    method: 'POST',
    url: '/things',
    headers: { 'content-type': 'application/json' },
    payload: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]),
  });
  expect([res.statusCode, res.json().error?.type]).toEqual([400, 'MalformedBody']);
  const poisoned = await a.inject({
    method: 'POST',
    url: '/things',
    headers: { 'content-type': 'application/json' },
    payload: '{"__proto__":{"x":1}}',
  });
  expect(poisoned.statusCode).toBe(400);
});

test('raw transfer bodies are not scanned as text', () => {
  expect(controlCharAt(Buffer.from([0, 1, 2]))).toBeUndefined();
  expect(controlCharAt({ a: ['ok', 'b\u0000'] })).toBe('body.a[1]');
});

test('error bodies never carry control characters or a megabyte of echoed input', () => {
  const body = new HttpError(400, 'X', `bad ${'\u001b[2J'}${'y'.repeat(5000)}`).toBody();
  expect(body.error.message).not.toContain('\u001b');
  expect(body.error.message.length).toBeLessThanOrEqual(501);
});
