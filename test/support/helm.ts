import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export const CHART = path.resolve(__dirname, '..', '..', 'deploy', 'helm', 'biblio');

/** Where scripts/ensure-helm.sh leaves Helm (kept in step with its HELM_VERSION and CACHE_DIR). */
export function helmBinary(): string {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;
  const cacheRoot = process.env.BIBLIO_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'biblio');
  const bin = path.join(cacheRoot, 'helm-v4.3.2', 'helm');
  if (!existsSync(bin)) throw new Error(`no Helm v4 at ${bin}: run scripts/ensure-helm.sh (npm test does), or set HELM_BIN`);
  return bin;
}

// Helm keeps repository caches and plugins under these: a throwaway home keeps the user's untouched.
const helmHome = mkdtempSync(path.join(os.tmpdir(), 'biblio-helm-'));

export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(helmBinary(), args, {
    encoding: 'utf8',
    env: {
      ...process.env,
      HELM_CACHE_HOME: path.join(helmHome, 'cache'),
      HELM_CONFIG_HOME: path.join(helmHome, 'config'),
      HELM_DATA_HOME: path.join(helmHome, 'data'),
    },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** `helm template` of the chart, parsed: fails the test with Helm's message when it does not render. */
export function render(args: string[]): Manifest[] {
  const r = helm(['template', 'biblio', CHART, ...args]);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((m): m is Manifest => m !== null);
}
