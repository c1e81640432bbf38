import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_DOC_PATH, renderConfigDoc } from '../../src/config/doc';
import { AREAS, VARIABLE_NAMES } from '../../src/config/schema';

const ROOT = path.resolve(__dirname, '..', '..');

/** Variables src/ touches on purpose outside the config module, and why. */
const NOT_CONFIGURATION: Record<string, string> = {
  // A LanceDB setting the vector store writes (indexStats() without centroids), not Biblio configuration.
  LANCE_INCLUDE_VECTOR_CENTROIDS: 'written for the LanceDB library',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every `process.env.X` / `process.env['X']` and commander `.env('X')` in src/, by file. */
function variablesReadInSrc(): { file: string; variable: string; how: 'process.env' | 'option' }[] {
  return sourceFiles(path.join(ROOT, 'src')).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    const rel = path.relative(ROOT, file);
    const env = [...text.matchAll(/process\.env(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"`]([^'"`]+)['"`]\s*\])/g)].map((m) => ({
      file: rel,
      variable: (m[1] ?? m[2])!,
      how: 'process.env' as const,
    }));
    const options = [...text.matchAll(/\.env\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*\)/g)].map((m) => ({
      file: rel,
      variable: m[1]!,
      how: 'option' as const,
    }));
    return [...env, ...options];
  });
}

describe('docs/configuration.md', () => {
  it('is what `npm run docs:config` generates from the config declarations (run it after changing a variable)', () => {
    const committed = readFileSync(path.join(ROOT, CONFIG_DOC_PATH), 'utf8');
    expect(committed).toBe(renderConfigDoc());
  });

  it('has a description for every variable', () => {
    const undescribed = AREAS.flatMap((a) => Object.entries(a.variables.shape))
      .filter(([, schema]) => !schema.description)
      .map(([name]) => name);
    expect(undescribed).toEqual([]);
  });

  it('declares each variable in exactly one area, and the loaded schema holds every area variable', () => {
    const declared = AREAS.flatMap((a) => Object.keys(a.variables.shape));
    expect(declared.filter((v, i) => declared.indexOf(v) !== i)).toEqual([]);
    expect([...declared].sort()).toEqual([...VARIABLE_NAMES].sort());
  });
});

describe('every variable src/ reads is declared', () => {
  const reads = variablesReadInSrc();
  const external = new Set(AREAS.flatMap((a) => (a.external ?? []).map((v) => v.name)));

  it('reads only variables declared in src/config/ from process.env, or ones listed with a reason', () => {
    const declared = new Set(VARIABLE_NAMES);
    const undeclared = reads
      .filter((r) => r.how === 'process.env' && !declared.has(r.variable) && !(r.variable in NOT_CONFIGURATION))
      .map((r) => `${r.file}: process.env.${r.variable} (declare it in src/config/)`);
    expect(undeclared).toEqual([]);
  });

  it("documents the variables the CLI's option parser reads", () => {
    const options = reads.filter((r) => r.how === 'option');
    expect(options.length).toBeGreaterThan(0); // the scan still finds them
    expect(options.filter((r) => !external.has(r.variable)).map((r) => `${r.file}: ${r.variable}`)).toEqual([]);
  });
});
