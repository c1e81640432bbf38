import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './children';

/** The installed version of a package (what ran, not what package.json allows). */
export function packageVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
