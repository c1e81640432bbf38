import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

// `npm run migrate` once ran dist/db/migrate-cli.js, which nothing compiled: a script's target is
// only checked when someone runs it. Every file a script or the `bin` entry names must be there
// (compiled code: its source in src/).
const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
};

function sourceOf(file: string): string {
  return file.replace(/^dist\/(.*)\.js$/, 'src/$1.ts');
}

const targets = [
  ...Object.entries(pkg.scripts).flatMap(([name, command]) =>
    [...command.matchAll(/(?:^|\s)((?:dist|src|test|bench|scripts)\/\S+\.(?:js|ts|sh))/g)].map(
      (m) => [`script ${name}`, m[1] ?? ''] as const,
    ),
  ),
  ...Object.entries(pkg.bin).map(([name, file]) => [`bin ${name}`, file] as const),
];

test('the scripts name files at all (the pattern below matches something)', () => {
  expect(targets.map(([, file]) => file)).toEqual(
    expect.arrayContaining(['dist/api/main.js', 'dist/db/migrate-cli.js', 'scripts/test.sh']),
  );
});

test.each(targets)('%s runs %s, which exists', (_what, file) => {
  const source = sourceOf(file);
  expect({ file, source, exists: existsSync(path.join(ROOT, source)) }).toEqual({ file, source, exists: true });
});

// A fresh clone's `npm run build` then `npx biblio …` (the README) failed with "Permission denied":
// tsc writes the CLI without the execute bit, and npm links no bin of the project itself.
test('the build makes every bin entry executable', () => {
  for (const file of Object.values(pkg.bin)) expect(pkg.scripts['build']).toContain(`chmodSync('${file}', 0o755)`);
});
