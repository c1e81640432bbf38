/**
 * scripts/ensure-minio.sh with stand-ins: fake `minio` binaries and a fake `go`, a PATH holding
 * only what each case needs and a temp cache, so nothing here builds or touches ~/.cache.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureScriptHarness } from '../support/ensure-script';

const VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';
const { TOOLS, dir, exe, bin, run } = ensureScriptHarness('ensure-minio.sh');

test('prints MINIO_BIN when it runs, fails with a clear message when it does not', () => {
  const d = dir('env');
  const good = exe(path.join(d, 'minio'), 'echo "minio version RELEASE"');
  const ok = run(d, { PATH: bin(path.join(d, 'bin'), TOOLS), MINIO_BIN: good });
  expect([ok.code, ok.stdout.trim()]).toEqual([0, good]);
  const bad = run(d, { PATH: bin(path.join(d, 'bin2'), TOOLS), MINIO_BIN: path.join(d, 'missing') });
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/MINIO_BIN=.* is not an executable MinIO server/);
});

test('prints the cached binary without building', () => {
  const d = dir('cache');
  const cached = exe(path.join(d, 'cache', `minio-${VERSION}`, 'minio'), 'echo ok');
  const r = run(d, { PATH: bin(path.join(d, 'bin'), TOOLS) });
  expect([r.code, r.stdout.trim()]).toEqual([0, cached]);
});

test('builds the pinned version with go install into a temp GOBIN and moves it into the cache', () => {
  const d = dir('build');
  const log = path.join(d, 'go.log');
  const binDir = bin(path.join(d, 'bin'), [...TOOLS, 'chmod']);
  exe(
    path.join(binDir, 'go'),
    `if [ "$1" = version ]; then echo "go version go1.26.8 linux/amd64"; exit 0; fi
echo "GOBIN=$GOBIN $*" >> '${log}'
printf '#!/bin/sh\\necho minio\\n' > "$GOBIN/minio"; chmod +x "$GOBIN/minio"`,
  );
  const r = run(d, { PATH: binDir });
  const cached = path.join(d, 'cache', `minio-${VERSION}`, 'minio');
  expect([r.code, r.stdout.trim()]).toEqual([0, cached]);
  expect(readFileSync(log, 'utf8')).toContain(`install github.com/minio/minio@${VERSION}`);
  expect(existsSync(cached)).toBe(true);
});
