import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { loadSecret } from './dev-secrets';

/**
 * Secret-bearing source URLs (user:password@, signed query strings) sealed with AES-256-GCM under
 * the source-URL key, a key of its own: the payload codec (which operators and the Web UI's codec
 * server hold) does not open it, so neither a decoded Temporal history, a dead letter, a log line
 * nor a `pg_dump` shows the secret. Only the API (which seals) and the media worker (which fetches)
 * hold this key.
 *
 * Format: `sealed:v1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>`. The key id (a hash of the
 * key) makes a rotated key fail loudly instead of decrypting to garbage.
 */
const PREFIX = 'sealed:v1:';
const AAD = Buffer.from('biblio source url v1');

export class UrlSealer {
  private readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the source-URL key must be 32 bytes');
    this.keyId = createHash('sha256').update(key).update('source-url').digest('hex').slice(0, 16);
  }

  seal(url: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(AAD);
    const data = Buffer.concat([iv, cipher.update(url, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${this.keyId}:${data.toString('base64url')}`;
  }

  open(sealed: string): string {
    if (!isSealed(sealed)) throw new Error('not a sealed URL');
    const [keyId, body] = sealed.slice(PREFIX.length).split(':');
    if (keyId !== this.keyId) {
      throw new Error(
        `the source URL was sealed with key ${keyId}, this process has ${this.keyId}: BIBLIO_SOURCE_URL_KEY differs between hosts or processes (set the same one on the API, pipeline and media hosts)`,
      );
    }
    const buf = Buffer.from(body ?? '', 'base64url');
    if (buf.length < 28) throw new Error('the sealed source URL is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, buf.subarray(0, 12));
    decipher.setAAD(AAD);
    decipher.setAuthTag(buf.subarray(buf.length - 16));
    return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]).toString('utf8');
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** BIBLIO_SOURCE_URL_KEY, else the data dir's generated key (shared by the API and the media workers). */
export async function loadUrlSealer(config: { sourceUrlKey?: string; dataDir: string }): Promise<UrlSealer> {
  return new UrlSealer(await loadSecret(config.sourceUrlKey, config.dataDir, 'source-url-key'));
}
