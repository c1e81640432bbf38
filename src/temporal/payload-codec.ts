import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { ErrorType, failure } from '../errors';

const ENCODING = 'binary/encrypted';
const URL_PATTERN = /[a-z][a-z0-9+.-]*:\/\//i;

/**
 * AES-256-GCM payload codec: payloads that carry a URL (workflow input of a URL source, the
 * refreshSourceUrl signal, signed upload URLs, activity inputs) are encrypted before they reach
 * Temporal, so no history, Web UI page or `temporal workflow show` reveals a URL or its
 * credentials. Payloads without a URL (ids, progress, results) stay plain, so status and the
 * Web UI read them without the codec.
 *
 * Decoding accepts plain payloads unchanged (histories recorded before the codec replay). The
 * key id (a hash of the key) rides in the metadata so a rotated key fails loudly.
 *
 * Web UI: run the API's codec endpoint or `temporal server start-dev --ui-codec-endpoint` against
 * a codec server using this class (docs/security.md).
 */
export class UrlEncryptionCodec implements PayloadCodec {
  private readonly keyId: string;

  constructor(
    private readonly key: Buffer,
    private readonly mode: 'urls' | 'all' = 'urls',
  ) {
    if (key.length !== 32) throw new Error('the payload key must be 32 bytes');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (this.mode === 'urls' && !(p.data && URL_PATTERN.test(Buffer.from(p.data).toString('utf8')))) return p;
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', this.key, iv);
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: Buffer.from(ENCODING), 'encryption-key-id': Buffer.from(this.keyId) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (Buffer.from(p.metadata?.encoding ?? []).toString() !== ENCODING) return p;
      const keyId = Buffer.from(p.metadata?.['encryption-key-id'] ?? []).toString();
      if (keyId !== this.keyId) throw keyMismatch(keyId, this.keyId);
      const buf = Buffer.from(p.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', this.key, buf.subarray(0, 12));
      decipher.setAuthTag(buf.subarray(buf.length - 16));
      const plain = Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/**
 * Typed, so an activity whose input this worker cannot decrypt fails as PayloadKeyMismatch (the
 * SDK keeps an ApplicationFailure's type) instead of an untyped codec Error, and says why.
 */
function keyMismatch(theirs: string, ours: string) {
  return failure(
    ErrorType.PayloadKeyMismatch,
    `payload was encrypted with payload key ${theirs || '(none named)'}, this process has ${ours}: the payload key differs between hosts or processes. Set the same BIBLIO_PAYLOAD_KEY on every host (a key generated in one host's data directory is not shared).`,
  );
}

export function dataConverterWith(key: Buffer): DataConverter {
  return { payloadCodecs: [new UrlEncryptionCodec(key)] };
}
