import { randomBytes } from 'node:crypto';
import { sameStoredSource, scrubUrls, storedSource, workflowSource } from '../../src/net/redact';
import { isSealed, UrlSealer } from '../../src/security/sealed-url';
import { UrlEncryptionCodec } from '../../src/temporal/payload-codec';

const SECRET_URL = 'https://alice:s3cret-pw@cdn.example/clips/river.mp4?X-Amz-Signature=abc123def&token=tok-9';

describe('sealed source URLs', () => {
  test('seal → open gives the URL back; the sealed form shows none of its secrets', () => {
    const sealer = new UrlSealer(randomBytes(32));
    const sealed = sealer.seal(SECRET_URL);
    expect(isSealed(sealed)).toBe(true);
    for (const secret of ['alice', 's3cret-pw', 'abc123def', 'tok-9', 'cdn.example']) expect(sealed).not.toContain(secret);
    expect(sealer.open(sealed)).toBe(SECRET_URL);
  });

  test('another key (a rotated one, or the payload codec key) cannot open it', () => {
    const sealed = new UrlSealer(randomBytes(32)).seal(SECRET_URL);
    expect(() => new UrlSealer(randomBytes(32)).open(sealed)).toThrow(/sealed with key .*BIBLIO_SOURCE_URL_KEY differs between hosts/);
  });

  test('the payload codec decodes a workflow input to the sealed form, not to the URL', async () => {
    const codecKey = randomBytes(32);
    const codec = new UrlEncryptionCodec(codecKey);
    const sealed = new UrlSealer(randomBytes(32)).seal(SECRET_URL);
    const data = Buffer.from(JSON.stringify({ source: { kind: 'url', url: 'https://cdn.example/clips/river.mp4?…', sealed } }));
    const [decoded] = await codec.decode(await codec.encode([{ metadata: {}, data }]));
    const text = Buffer.from(decoded?.data ?? []).toString();
    expect(text).toContain(sealed);
    expect(text).not.toContain('s3cret-pw');
    expect(text).not.toContain('abc123def');
  });
});

describe('sources at rest', () => {
  test('a stored URL source keeps a fingerprint and the sealed form, never the secrets', () => {
    const sealed = new UrlSealer(randomBytes(32)).seal(SECRET_URL);
    const stored = { ...storedSource({ kind: 'url', url: SECRET_URL }), sealed };
    expect(JSON.stringify(stored)).not.toMatch(/s3cret|abc123def|tok-9|alice/);
    expect(storedSource(stored)).toEqual(stored);
    // A second POST of the same URL seals with another IV: still the same source.
    const again = { ...storedSource({ kind: 'url', url: SECRET_URL }), sealed: 'sealed:v1:other' };
    expect(sameStoredSource(stored, again)).toBe(true);
    expect(sameStoredSource(stored, storedSource({ kind: 'url', url: SECRET_URL.replace('tok-9', 'tok-8') }))).toBe(false);
    expect(workflowSource(stored)).toEqual({ kind: 'url', url: 'https://cdn.example/clips/river.mp4?…', sealed });
  });

  test('URLs in free text lose credentials and query strings', () => {
    expect(scrubUrls(`could not reach ${SECRET_URL}: ECONNREFUSED`)).toBe(
      'could not reach https://cdn.example/clips/river.mp4?…: ECONNREFUSED',
    );
  });
});
