import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// Comments in src/ say why, in words a reader without the tracker understands: an issue number
// means nothing to them (git log keeps the history), and a "see README" points at prose that moved.
const SRC = path.join(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

const offending = (pattern: RegExp) =>
  sourceFiles(SRC).flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => (pattern.test(line) ? [`${path.relative(SRC, file)}:${i + 1}: ${line.trim()}`] : [])),
  );

test('no source file names an issue number', () => {
  expect(offending(/\bissues? #?\d+/i)).toEqual([]);
});

test('no source file sends a reader to a README section (the docs live in docs/)', () => {
  expect(offending(/README "/)).toEqual([]);
});
