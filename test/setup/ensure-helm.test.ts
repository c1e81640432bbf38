/**
 * scripts/ensure-helm.sh with stand-ins: fake `helm` binaries and a fake `go`, a PATH holding
 * only what each case needs and a temp cache, so nothing here builds or touches ~/.cache.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensureScriptHarness } from '../support/ensure-script';

const VERSION = 'v4.3.2';
const { TOOLS, dir, exe, bin, run } = ensureScriptHarness('ensure-helm.sh');

test('prints HELM_BIN when it is Helm v4, fails with a clear message when it is not', () => {
  const d = dir('env');
  const good = exe(path.join(d, 'helm'), 'echo "v4.3.2+g1234567"');
  const ok = run(d, { PATH: bin(path.join(d, 'bin'), TOOLS), HELM_BIN: good });
  expect([ok.code, ok.stdout.trim()]).toEqual([0, good]);
  // Helm 3 renders the chart differently and is not what the tests pin.
  const v3 = exe(path.join(d, 'helm3'), 'echo "v3.19.0+gabcdef0"');
  const old = run(d, { PATH: bin(path.join(d, 'bin2'), TOOLS), HELM_BIN: v3 });
  expect(old.code).toBe(1);
  expect(old.stderr).toMatch(/HELM_BIN=.* is not an executable Helm v4/);
});

test('prints the cached binary without building', () => {
  const d = dir('cache');
  const cached = exe(path.join(d, 'cache', `helm-${VERSION}`, 'helm'), 'echo v4.3.2');
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
printf '#!/bin/sh\\necho v4.3.2\\n' > "$GOBIN/helm"; chmod +x "$GOBIN/helm"`,
  );
  const r = run(d, { PATH: binDir });
  const cached = path.join(d, 'cache', `helm-${VERSION}`, 'helm');
  expect([r.code, r.stdout.trim()]).toEqual([0, cached]);
  expect(readFileSync(log, 'utf8')).toContain(`install helm.sh/helm/v4/cmd/helm@${VERSION}`);
  expect(existsSync(cached)).toBe(true);
});
