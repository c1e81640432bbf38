import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Stand-ins for the scripts/ensure-*.sh tests: fake binaries, a PATH holding only what a case
 * needs and a temp cache, so nothing builds or touches ~/.cache. Call it at the top of a test
 * file: it registers its own beforeAll/afterAll for the temp root.
 */
export function ensureScriptHarness(script: string) {
  const which = (tool: string) => execFileSync('bash', ['-c', 'command -v "$1"', 'which', tool], { encoding: 'utf8' }).trim();
  const bash = which('bash');
  const scriptPath = path.resolve(__dirname, '../../scripts', script);
  let root = '';
  let n = 0;
  beforeAll(() => (root = mkdtempSync(path.join(os.tmpdir(), `biblio-${path.basename(script, '.sh')}-`))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  return {
    /** Tools every case's PATH holds. */
    TOOLS: ['mkdir', 'mktemp', 'rm', 'mv', 'flock', 'date', 'awk', 'grep'],
    /** A fresh directory for one case. */
    dir(name: string): string {
      const d = path.join(root, `${++n}-${name}`);
      mkdirSync(d, { recursive: true });
      return d;
    },
    /** An executable shell script at `file`. */
    exe(file: string, body: string): string {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
      return file;
    },
    /** A PATH directory holding links to these real tools only. */
    bin(d: string, tools: string[]): string {
      mkdirSync(d, { recursive: true });
      for (const t of tools) symlinkSync(which(t), path.join(d, t));
      return d;
    },
    /** The script run with its cache in `d/cache` and only `env` beside HOME. */
    run(d: string, env: Record<string, string>) {
      const home = path.join(d, 'home');
      mkdirSync(home, { recursive: true });
      const r = spawnSync(bash, [scriptPath], { env: { HOME: home, BIBLIO_CACHE_DIR: path.join(d, 'cache'), ...env }, encoding: 'utf8' });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}
