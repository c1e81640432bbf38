import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// A landing CI exited 1 with the closing line "jest: 1354 passed, 0 failed, 2 skipped": a run
// can fail in a test file outside its tests, and the line counted tests only. These results are
// made up in jest's --json shape.
const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'jest-summary.js');

type FileResult = { name: string; status: 'passed' | 'failed'; message: string; assertionResults: { status: string }[] };

function jestRun(files: FileResult[]): object {
  const count = (status: string) => files.flatMap((f) => f.assertionResults).filter((t) => t.status === status).length;
  return {
    numPassedTests: count('passed'),
    numFailedTests: count('failed'),
    numPendingTests: count('pending'),
    numTodoTests: 0,
    testResults: files,
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'jest-summary-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function summarise(...runs: (object | '')[]): string[] {
  const files = runs.map((run, i) => {
    const file = path.join(dir, `run-${i}.json`);
    writeFileSync(file, run === '' ? '' : JSON.stringify(run));
    return file;
  });
  return execFileSync(process.execPath, [SCRIPT, ...files], { encoding: 'utf8', cwd: dir })
    .trim()
    .split('\n');
}

const passing = (name: string, tests = 2): FileResult => ({
  name: path.join('/', 'x', name),
  status: 'passed',
  message: '',
  assertionResults: Array.from({ length: tests }, () => ({ status: 'passed' })),
});

test('sums both runs; an empty second result file (the first run crashed the second) is ignored', () => {
  const first = jestRun([passing('a.test.ts'), { ...passing('b.test.ts', 1), assertionResults: [{ status: 'pending' }] }]);
  const second = jestRun([passing('c.test.ts', 3)]);
  expect(summarise(first, second)).toEqual(['jest: 5 passed, 0 failed, 1 skipped']);
  expect(summarise(first, '')).toEqual(['jest: 2 passed, 0 failed, 1 skipped']);
});

test('a test file that fails outside its tests counts as one failure and is named with its message', () => {
  const hookFailed: FileResult = {
    ...passing('hooks.test.ts', 3),
    status: 'failed',
    message: '\n  ● Test suite failed to run\n\n    afterAll: the worker did not stop\n',
  };
  const lines = summarise(jestRun([passing('a.test.ts'), hookFailed]));
  expect(lines.at(-1)).toBe('jest: 5 passed, 1 failed, 0 skipped');
  expect(lines.slice(0, -1).join('\n')).toMatch(/hooks\.test\.ts failed outside its tests:[\s\S]*the worker did not stop/);
});

test('a file whose failure is a failed test is counted once, by its test', () => {
  const testFailed: FileResult = {
    ...passing('t.test.ts', 1),
    status: 'failed',
    message: 'expect(received).toBe(expected)',
    assertionResults: [{ status: 'passed' }, { status: 'failed' }],
  };
  expect(summarise(jestRun([testFailed]))).toEqual(['jest: 1 passed, 1 failed, 0 skipped']);
});

test('no result at all says so', () => {
  expect(summarise('')).toEqual(['jest: no results (it crashed before reporting)']);
});
