import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A 32-byte secret: from configuration (base64) when set — production — else generated once
 * and kept in `<dataDir>/secrets/<name>` (mode 0600) so the API and every worker of an
 * embedded set-up share it. Creation is atomic (write a temp file, hard-link it into place),
 * so processes starting together agree on one value.
 */
export async function loadSecret(configured: string | undefined, dataDir: string, name: string): Promise<Buffer> {
  if (configured) {
    const buf = Buffer.from(configured, 'base64');
    if (buf.length < 32) throw new Error(`the configured ${name} must be base64 of at least 32 bytes`);
    return buf.subarray(0, 32);
  }
  const dir = path.join(dataDir, 'secrets');
  const file = path.join(dir, name);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing) return Buffer.from(existing.trim(), 'base64');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, randomBytes(32).toString('base64'), { mode: 0o600 });
  await link(tmp, file).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  await rm(tmp, { force: true });
  return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
}
