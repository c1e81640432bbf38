// The closing line of `npm test`, from jest's --json result files: "jest: N passed, N failed, N skipped".
// A test file that fails outside its tests (a hook that throws, a crash, an error after the
// last test) has no failed test, yet fails the run: it counts as one failure here and is named
// above the closing line, so that the line never says "0 failed" on a red run.
'use strict';
const fs = require('fs');
const path = require('path');

const runs = process.argv
  .slice(2)
  .filter((file) => fs.existsSync(file) && fs.statSync(file).size > 0)
  .map((file) => JSON.parse(fs.readFileSync(file, 'utf8')));
if (runs.length === 0) {
  console.log('jest: no results (it crashed before reporting)');
  process.exit(0);
}

const sum = (key) => runs.reduce((total, run) => total + (run[key] ?? 0), 0);
const failedOutsideTests = runs
  .flatMap((run) => run.testResults)
  .filter((file) => file.status === 'failed' && !(file.assertionResults ?? []).some((test) => test.status === 'failed'));
for (const file of failedOutsideTests) {
  const firstLines = (file.message || 'no message')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, 6);
  console.log(`[test] ${path.relative(process.cwd(), file.name)} failed outside its tests:`);
  for (const line of firstLines) console.log(`[test]   ${line}`);
}
const failed = sum('numFailedTests') + failedOutsideTests.length;
console.log(`jest: ${sum('numPassedTests')} passed, ${failed} failed, ${sum('numPendingTests') + sum('numTodoTests')} skipped`);
