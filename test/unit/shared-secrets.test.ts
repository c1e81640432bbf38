import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { ConfigError, loadConfig } from '../../src/config';
import { ErrorType } from '../../src/errors';
import { loadDataConverter } from '../../src/temporal/data-converter';
import { UrlEncryptionCodec } from '../../src/temporal/payload-codec';

// Keys a multi-host deployment must share by configuration, and what happens when hosts differ.
const key = () => randomBytes(32).toString('base64');
const URL_PAYLOAD: Payload = { metadata: {}, data: Buffer.from(JSON.stringify({ source: 'https://cdn.example/a.mp4' })) };

function configProblems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n').slice(1);
    throw err;
  }
  return [];
}

describe('BIBLIO_DEPLOYMENT=multi-host refuses to start without shared configuration', () => {
  const shared = {
    BIBLIO_DEPLOYMENT: 'multi-host',
    BIBLIO_PAYLOAD_KEY: key(),
    BIBLIO_SOURCE_URL_KEY: key(),
    STORAGE_BACKEND: 's3',
    VECTOR_LANCEDB_URI: 's3://biblio/vectors',
  };

  test('names every missing secret and the host-local vector store, one line each', () => {
    const problems = configProblems({ BIBLIO_DEPLOYMENT: 'multi-host' });
    expect(problems.map((p) => p.trim().split(':')[0])).toEqual([
      'BIBLIO_PAYLOAD_KEY',
      'BIBLIO_SOURCE_URL_KEY',
      'STORAGE_SIGNING_SECRET',
      'VECTOR_LANCEDB_URI',
    ]);
    expect(problems[0]).toContain('BIBLIO_DEPLOYMENT=multi-host needs BIBLIO_PAYLOAD_KEY set to the same value on every host');
  });

  test.each(['BIBLIO_PAYLOAD_KEY', 'BIBLIO_SOURCE_URL_KEY'])('refuses when only %s is missing', (variable) => {
    const problems = configProblems({ ...shared, [variable]: undefined });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`needs ${variable}`);
  });

  test('needs STORAGE_SIGNING_SECRET only with the local store, whose URLs it signs', () => {
    expect(configProblems(shared)).toEqual([]);
    expect(configProblems({ ...shared, STORAGE_BACKEND: 'local' })).toEqual([expect.stringContaining('needs STORAGE_SIGNING_SECRET')]);
    expect(configProblems({ ...shared, STORAGE_BACKEND: 'local', STORAGE_SIGNING_SECRET: 'x'.repeat(32) })).toEqual([]);
  });

  test('accepts Qdrant instead of a LanceDB location', () => {
    expect(configProblems({ ...shared, VECTOR_LANCEDB_URI: undefined, QDRANT_URL: 'http://qdrant:6333' })).toEqual([]);
  });

  test('a single host (the default, the demo) starts with nothing configured and generated keys', async () => {
    expect(loadConfig({}).deployment).toBe('single-host');
    expect(configProblems({ STORAGE_BACKEND: 's3' })).toEqual([]);
    // Two processes on one data directory generate one key and read each other's payloads.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-secrets-'));
    try {
      const [a, b] = await Promise.all([loadDataConverter({ dataDir }), loadDataConverter({ dataDir })]);
      const [encoded] = await a.payloadCodecs![0]!.encode([URL_PAYLOAD]);
      expect(Buffer.from(encoded!.metadata!.encoding!).toString()).toBe('binary/encrypted');
      const [decoded] = await b.payloadCodecs![0]!.decode([encoded!]);
      expect(Buffer.from(decoded!.data!).toString()).toBe(Buffer.from(URL_PAYLOAD.data!).toString());
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('a payload encrypted under another host key', () => {
  async function decodeOnOtherHost(): Promise<unknown> {
    // Two hosts, each with its own generated key: what a multi-host deployment without shared keys had.
    const [dirA, dirB] = await Promise.all([1, 2].map(() => mkdtemp(path.join(os.tmpdir(), 'biblio-host-'))));
    try {
      const hostA = await loadDataConverter({ dataDir: dirA! });
      const hostB = await loadDataConverter({ dataDir: dirB! });
      const encoded = await hostA.payloadCodecs![0]!.encode([URL_PAYLOAD]);
      return await hostB.payloadCodecs![0]!.decode(encoded).then(
        () => undefined,
        (err: unknown) => err,
      );
    } finally {
      await Promise.all([dirA, dirB].map((d) => rm(d!, { recursive: true, force: true })));
    }
  }

  test('fails typed as PayloadKeyMismatch, saying the payload key differs between hosts', async () => {
    const err = await decodeOnOtherHost();
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: ErrorType.PayloadKeyMismatch, nonRetryable: false });
    expect((err as Error).message).toMatch(/payload key differs between hosts/);
    expect((err as Error).message).toContain('BIBLIO_PAYLOAD_KEY');
  });

  test('keeps its type through the wrapping the worker applies to an activity input it cannot decode', async () => {
    // What @temporalio/worker does when decoding activity args throws (worker.js, "Failed to parse activity args").
    const wrapped = ApplicationFailure.fromError(await decodeOnOtherHost(), {
      message: 'Failed to parse activity args',
      nonRetryable: false,
    });
    expect(wrapped.type).toBe(ErrorType.PayloadKeyMismatch);
  });

  test('an untyped Error would have been recorded with the type "Error" (the failure this replaces)', () => {
    expect(ApplicationFailure.fromError(new Error('payload was encrypted with key x')).type).toBe('Error');
  });

  test('the same key on both hosts decodes', async () => {
    const k = randomBytes(32);
    const encoded = await new UrlEncryptionCodec(k).encode([URL_PAYLOAD]);
    await expect(new UrlEncryptionCodec(Buffer.from(k)).decode(encoded)).resolves.toHaveLength(1);
  });
});
