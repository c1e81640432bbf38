/**
 * The ffmpeg branch of scripts/setup.sh. The script is run unmodified, from a byte-identical
 * copy in a temp "repo" (so ROOT, node_modules and the lock file are the temp ones and npm ci
 * can never run), with a PATH holding only symlinked basics and fakes of node, ffmpeg,
 * ffprobe, id and apt-get. Nothing is installed and the real clone is not touched.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');

function which(tool: string): string {
  return execFileSync('bash', ['-c', 'command -v "$1"', 'which', tool], { encoding: 'utf8' }).trim();
}

const BASH = which('bash');
const CHMOD = which('chmod');

interface Case {
  /** Tools present on PATH as fakes. */
  ffmpeg?: boolean;
  ffprobe?: boolean;
  uid?: number;
  /** Body of a fake apt-get, given the case's bin dir (absent: no apt-get on PATH). */
  aptGet?: (bin: string) => string;
  env?: Record<string, string>;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  dir: string;
  bin: string;
}

let root: string;
let caseNo = 0;

function writeExecutable(file: string, body: string): void {
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

function runSetup(c: Case): Result {
  caseNo += 1;
  const dir = path.join(root, String(caseNo));
  const repo = path.join(dir, 'repo');
  mkdirSync(path.join(repo, 'scripts'), { recursive: true });
  mkdirSync(path.join(repo, 'node_modules'), { recursive: true });
  for (const s of ['setup.sh', 'ensure-temporal-cli.sh']) {
    copyFileSync(path.join(REPO, 'scripts', s), path.join(repo, 'scripts', s));
  }
  // npm's install marker newer than the lock file: ensure_npm_deps has nothing to do.
  writeFileSync(path.join(repo, 'package-lock.json'), '{}');
  writeFileSync(path.join(repo, 'node_modules', '.package-lock.json'), '{}');
  utimesSync(path.join(repo, 'package-lock.json'), new Date(2000, 0, 1), new Date(2000, 0, 1));

  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  for (const t of ['bash', 'dirname', 'head', 'cut', 'grep', 'cat']) symlinkSync(which(t), path.join(bin, t));
  writeExecutable(path.join(bin, 'node'), 'case "$1" in -v) echo v20.20.2 ;; *) echo 20.20.2 ;; esac');
  writeExecutable(path.join(bin, 'id'), `echo ${c.uid ?? 1000}`);
  if (c.ffmpeg) writeExecutable(path.join(bin, 'ffmpeg'), 'echo "ffmpeg version 9.9-fake Copyright"');
  if (c.ffprobe) writeExecutable(path.join(bin, 'ffprobe'), 'echo "ffprobe version 9.9-fake"');
  if (c.aptGet) writeExecutable(path.join(bin, 'apt-get'), c.aptGet(bin));
  const cli = path.join(dir, 'temporal');
  writeExecutable(cli, "echo 'temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)'");

  const res = spawnSync(BASH, [path.join(repo, 'scripts', 'setup.sh')], {
    env: { PATH: bin, HOME: dir, TEMPORAL_CLI: cli, BIBLIO_CACHE_DIR: path.join(dir, 'cache'), ...c.env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (res.error) throw res.error;
  return { code: res.status, stdout: res.stdout, stderr: res.stderr, dir, bin };
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'biblio-setup-sh-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('setup.sh ffmpeg check', () => {
  it('finishes with the ready line naming ffmpeg when ffmpeg and ffprobe are on PATH', () => {
    const r = runSetup({ ffmpeg: true, ffprobe: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('[setup] ready: node v20.20.2, ffmpeg version 9.9-fake');
  });

  it('exports nothing on stdout (the ready line goes to stderr)', () => {
    expect(runSetup({ ffmpeg: true, ffprobe: true }).stdout).toBe('');
  });

  it('fails with exit 1 and says how to install ffmpeg when neither tool is on PATH', () => {
    const r = runSetup({ env: { BIBLIO_NO_APT: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ffmpeg/ffprobe not found on PATH');
    expect(r.stderr).toContain('set FFMPEG_PATH and FFPROBE_PATH');
  });

  it('fails when ffmpeg is on PATH but ffprobe is not', () => {
    const r = runSetup({ ffmpeg: true, env: { BIBLIO_NO_APT: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ffmpeg/ffprobe not found on PATH');
  });

  it('skips the check when both FFMPEG_PATH and FFPROBE_PATH are set', () => {
    const r = runSetup({ env: { BIBLIO_NO_APT: '1', FFMPEG_PATH: '/opt/ff/ffmpeg', FFPROBE_PATH: '/opt/ff/ffprobe' } });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('not found');
  });

  it('still checks PATH when only FFMPEG_PATH is set', () => {
    const r = runSetup({ env: { BIBLIO_NO_APT: '1', FFMPEG_PATH: '/opt/ff/ffmpeg' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ffmpeg/ffprobe not found on PATH');
  });
});

describe('setup.sh installing ffmpeg with apt-get', () => {
  /** A fake apt-get that logs its arguments next to bin/ and, on install, puts fake ffmpeg/ffprobe on PATH. */
  const loggingApt = (bin: string) =>
    [
      `echo "$*" >> '${bin}/../apt.log'`,
      'if [ "$1" = install ]; then',
      `  printf '#!/bin/sh\\necho "ffmpeg version 5.1-apt"\\n' > '${bin}/ffmpeg'; ${CHMOD} +x '${bin}/ffmpeg'`,
      `  printf '#!/bin/sh\\n' > '${bin}/ffprobe'; ${CHMOD} +x '${bin}/ffprobe'`,
      'fi',
    ].join('\n');
  const aptLog = (r: Result) => path.join(r.dir, 'apt.log');

  it('runs apt-get update then installs ffmpeg without recommends when root', () => {
    const r = runSetup({ uid: 0, aptGet: loggingApt });
    expect(r.code).toBe(0);
    expect(readFileSync(aptLog(r), 'utf8').trim().split('\n')).toEqual(['update -qq', 'install -y -qq --no-install-recommends ffmpeg']);
  });

  it('reports the freshly installed ffmpeg in the ready line', () => {
    const r = runSetup({ uid: 0, aptGet: loggingApt });
    expect(r.stderr).toContain('ffmpeg version 5.1-apt');
  });

  it('does not use apt-get when not root', () => {
    const r = runSetup({ uid: 1000, aptGet: loggingApt });
    expect(r.code).toBe(1);
    expect(existsSync(aptLog(r))).toBe(false);
    expect(r.stderr).toContain('ffmpeg/ffprobe not found on PATH');
  });

  it('does not use apt-get when BIBLIO_NO_APT is set, even as root', () => {
    const r = runSetup({ uid: 0, aptGet: loggingApt, env: { BIBLIO_NO_APT: '1' } });
    expect(r.code).toBe(1);
    expect(existsSync(aptLog(r))).toBe(false);
  });

  it('fails with exit 1 and says so when apt-get fails', () => {
    const r = runSetup({ uid: 0, aptGet: () => 'echo "E: Unable to locate package ffmpeg" >&2; exit 100' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apt-get install ffmpeg failed');
  });
});
