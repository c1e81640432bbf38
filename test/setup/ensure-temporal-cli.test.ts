/**
 * scripts/ensure-temporal-cli.sh, run with bash in a controlled environment: fake CLIs and a
 * fake `go` stand in for the real ones, PATH holds only what each case needs, and the cache
 * lives in a temp dir, so nothing here builds, downloads or touches ~/.cache.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../scripts/ensure-temporal-cli.sh');
const GOOD_VERSION = 'temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)';

/** Absolute path of a tool on the test runner's own PATH (throws if missing). */
function which(tool: string): string {
  return execFileSync('bash', ['-c', 'command -v "$1"', 'which', tool], { encoding: 'utf8' }).trim();
}

const BASH = which('bash');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let root: string;
let caseNo = 0;

/** A fresh directory per case: cache, home, bin dirs never leak between cases. */
function freshDir(name: string): string {
  caseNo += 1;
  const dir = path.join(root, `${caseNo}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function writeExecutable(file: string, body: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

/** A stand-in Temporal CLI that answers `--version` like the real one. */
function fakeCli(file: string, version = GOOD_VERSION): string {
  return writeExecutable(file, `echo '${version}'`);
}

/** A bin dir holding only symlinks to the named tools. */
function binDirWith(dir: string, tools: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const t of tools) symlinkSync(which(t), path.join(dir, t));
  return dir;
}

/** A minimal environment: nothing from the runner's environment unless passed in. */
function baseEnv(dir: string, extra: Record<string, string>): Record<string, string> {
  const home = path.join(dir, 'home');
  mkdirSync(home, { recursive: true });
  return { HOME: home, BIBLIO_CACHE_DIR: path.join(dir, 'cache'), ...extra };
}

/** Runs the script with bash, optionally inside a wrapper argv (the no-Go sandbox). */
function run(env: Record<string, string>, wrapper: string[] = []): Run {
  return spawnIn(env, wrapper, [SCRIPT]);
}

function spawnIn(env: Record<string, string>, wrapper: string[], bashArgs: string[]): Run {
  const [cmd, ...args] = [...wrapper, BASH, ...bashArgs];
  const res = spawnSync(cmd as string, args, { env, encoding: 'utf8', timeout: 30_000 });
  if (res.error) throw res.error;
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/**
 * The script falls back to /usr/local/go/bin/go when `go` is not on PATH, so a restricted
 * PATH alone does not hide Go on machines that have it there. When it exists, run the script
 * in a private mount namespace with an empty dir mounted over /usr/local/go.
 */
function noGoSandbox(dir: string): string[] {
  if (!existsSync('/usr/local/go')) return [];
  let unshare: string;
  let mount: string;
  try {
    unshare = which('unshare');
    mount = which('mount');
  } catch {
    throw new Error('/usr/local/go exists and unshare/mount are unavailable: cannot hide Go from the script');
  }
  const empty = path.join(dir, 'empty-go');
  mkdirSync(empty, { recursive: true });
  const asRoot = process.getuid?.() === 0 ? [] : ['--map-root-user'];
  return [unshare, '--mount', ...asRoot, BASH, '-c', `${mount} --bind "$1" /usr/local/go && shift && exec "$@"`, 'sandbox', empty];
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'biblio-ensure-cli-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('ensure-temporal-cli.sh with TEMPORAL_CLI set', () => {
  it('fails with exit 1 when TEMPORAL_CLI is a file that is not executable', () => {
    const dir = freshDir('not-executable');
    const file = path.join(dir, 'temporal');
    writeFileSync(file, `#!/bin/sh\necho '${GOOD_VERSION}'\n`, { mode: 0o644 });
    const r = run(baseEnv(dir, { PATH: '/usr/bin:/bin', TEMPORAL_CLI: file }));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
  });

  it('says TEMPORAL_CLI is not an executable Temporal CLI when it is not executable', () => {
    const dir = freshDir('not-executable-msg');
    const file = path.join(dir, 'temporal');
    writeFileSync(file, `#!/bin/sh\necho '${GOOD_VERSION}'\n`, { mode: 0o644 });
    const r = run(baseEnv(dir, { PATH: '/usr/bin:/bin', TEMPORAL_CLI: file }));
    expect(r.stderr).toContain(`TEMPORAL_CLI=${file} is not an executable Temporal CLI`);
  });

  it('rejects an executable that does not report a Server version', () => {
    const dir = freshDir('wrong-program');
    const file = fakeCli(path.join(dir, 'temporal'), 'tctl version 1.18.0');
    const r = run(baseEnv(dir, { PATH: '/usr/bin:/bin', TEMPORAL_CLI: file }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not an executable Temporal CLI');
  });

  it('prints exactly the TEMPORAL_CLI path and exits 0 for a working CLI', () => {
    const dir = freshDir('good-cli');
    const file = fakeCli(path.join(dir, 'my temporal', 'temporal'));
    const r = run(baseEnv(dir, { PATH: '/usr/bin:/bin', TEMPORAL_CLI: file }));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${file}\n`);
  });
});

describe('ensure-temporal-cli.sh without TEMPORAL_CLI', () => {
  it('hides go and temporal from the no-Go case (precondition: PATH and /usr/local/go/bin)', () => {
    // Checked the way the script looks: `command -v`, then /usr/local/go/bin/go.
    const dir = freshDir('no-go-precondition');
    const bin = binDirWith(path.join(dir, 'bin'), ['bash', 'grep']);
    const r = spawnIn({ PATH: bin, HOME: dir }, noGoSandbox(dir), [
      '-c',
      'command -v go || command -v temporal || [ -x /usr/local/go/bin/go ] && echo REACHABLE; true',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
  });

  it('fails with exit 1 and tells to install Go or set TEMPORAL_CLI when there is no CLI and no Go', () => {
    const dir = freshDir('no-go');
    const bin = binDirWith(path.join(dir, 'bin'), ['bash', 'grep']);
    const r = run(baseEnv(dir, { PATH: bin }), noGoSandbox(dir));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Go is not installed');
    expect(r.stderr).toMatch(/install Go .*set TEMPORAL_CLI=/);
  });

  it('prints the cached binary in BIBLIO_CACHE_DIR without building', () => {
    const dir = freshDir('cached');
    const env = baseEnv(dir, {});
    const cached = fakeCli(path.join(env.BIBLIO_CACHE_DIR as string, 'temporal-cli-v1.5.1', 'temporal'));
    const marker = path.join(dir, 'go-was-called');
    const bin = binDirWith(path.join(dir, 'bin'), ['bash', 'grep']);
    writeExecutable(path.join(bin, 'go'), `touch '${marker}'; exit 1`);
    const r = run({ ...env, PATH: bin });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${cached}\n`);
    expect(existsSync(marker)).toBe(false);
  });

  it('looks for the cache under XDG_CACHE_HOME/biblio when BIBLIO_CACHE_DIR is unset', () => {
    const dir = freshDir('xdg');
    const xdg = path.join(dir, 'xdg');
    const cached = fakeCli(path.join(xdg, 'biblio', 'temporal-cli-v1.5.1', 'temporal'));
    const bin = binDirWith(path.join(dir, 'bin'), ['bash', 'grep']);
    const { BIBLIO_CACHE_DIR: _unused, ...env } = baseEnv(dir, { PATH: bin, XDG_CACHE_HOME: xdg });
    const r = run(env);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${cached}\n`);
  });

  it('prefers a working `temporal` on PATH over the cache', () => {
    const dir = freshDir('on-path');
    const env = baseEnv(dir, {});
    fakeCli(path.join(env.BIBLIO_CACHE_DIR as string, 'temporal-cli-v1.5.1', 'temporal'));
    const bin = binDirWith(path.join(dir, 'bin'), ['bash', 'grep']);
    const onPath = fakeCli(path.join(bin, 'temporal'));
    const r = run({ ...env, PATH: bin });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${onPath}\n`);
  });
});

describe('ensure-temporal-cli.sh building with (a fake) go', () => {
  /** A fake `go`: `version` answers, `install` runs the given shell body (GOBIN is set by the script). */
  function fakeGo(bin: string, installBody: string, log: string): void {
    writeExecutable(
      path.join(bin, 'go'),
      [
        `echo "$*" >> '${log}'`,
        'case "$1" in',
        '  version) echo "go version go1.25.0 linux/amd64" ;;',
        `  install) ${installBody} ;;`,
        '  *) exit 2 ;;',
        'esac',
      ].join('\n'),
    );
  }

  function buildCase(name: string, installBody: string) {
    const dir = freshDir(name);
    const env = baseEnv(dir, {});
    const fake = path.join(dir, 'fakebin');
    const log = path.join(dir, 'go.log');
    fakeGo(fake, installBody, log);
    const cached = path.join(env.BIBLIO_CACHE_DIR as string, 'temporal-cli-v1.5.1', 'temporal');
    const r = run({ ...env, PATH: `${fake}:/usr/bin:/bin` });
    return { r, cached, log };
  }

  const writesCli = (version: string) => `printf '#!/bin/sh\\necho "${version}"\\n' > "$GOBIN/temporal" && chmod +x "$GOBIN/temporal"`;

  it('installs the pinned v1.5.1 CLI module with go install', () => {
    const { log } = buildCase('build-args', writesCli(GOOD_VERSION));
    expect(readFileSync(log, 'utf8')).toContain('install github.com/temporalio/cli/cmd/temporal@v1.5.1');
  });

  it('moves the built binary into the cache and prints exactly its path', () => {
    const { r, cached } = buildCase('build-ok', writesCli(GOOD_VERSION));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${cached}\n`);
    expect(execFileSync(cached, ['--version'], { encoding: 'utf8' }).trim()).toBe(GOOD_VERSION);
  });

  it('fails with exit 1 and says so when go install fails', () => {
    const { r, cached } = buildCase('build-fails', 'echo "network unreachable" >&2; exit 1');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('go install failed');
    expect(existsSync(cached)).toBe(false);
  });

  it('refuses a built binary whose embedded server is not 1.29', () => {
    const { r, cached } = buildCase('build-wrong-server', writesCli('temporal version 0.0.0-DEV (Server 1.30.0, UI 2.45.0)'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("expected 'Server 1.29'");
    expect(existsSync(cached)).toBe(false);
  });
});
