/**
 * scripts/ensure-helm.sh with stand-ins: fake `helm` binaries and a fake `go`, a PATH holding
 * only what each case needs and a temp cache, so nothing here builds or touches ~/.cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../scripts/ensure-helm.sh');
const VERSION = 'v4.3.2';

function which(tool: string): string {
  return execFileSync('bash', ['-c', 'command -v "$1"', 'which', tool], { encoding: 'utf8' }).trim();
}
const BASH = which('bash');
let root: string;
let n = 0;

function dir(name: string): string {
  const d = path.join(root, `${++n}-${name}`);
  mkdirSync(d, { recursive: true });
  return d;
}
function exe(file: string, body: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}
function bin(d: string, tools: string[]): string {
  mkdirSync(d, { recursive: true });
  for (const t of tools) symlinkSync(which(t), path.join(d, t));
  return d;
}
function run(d: string, env: Record<string, string>) {
  const home = path.join(d, 'home');
  mkdirSync(home, { recursive: true });
  const r = spawnSync(BASH, [SCRIPT], { env: { HOME: home, BIBLIO_CACHE_DIR: path.join(d, 'cache'), ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const TOOLS = ['mkdir', 'mktemp', 'rm', 'mv', 'flock', 'date', 'awk', 'grep'];

beforeAll(() => (root = mkdtempSync(path.join(os.tmpdir(), 'biblio-ensure-helm-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

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
