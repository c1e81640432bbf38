import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROW_STATUSES } from '../../src/contracts/product-status';

const MIGRATIONS = path.resolve(__dirname, '..', '..', 'migrations');

test('the row statuses are the ones the videos table’s CHECK constraint allows', () => {
  const checks = readdirSync(MIGRATIONS)
    .sort()
    .flatMap((file) => [...readFileSync(path.join(MIGRATIONS, file), 'utf8').matchAll(/CHECK \(status IN \(([^)]*)\)\)/g)])
    .map((m) => (m[1] ?? '').split(',').map((s) => s.trim().replace(/^'|'$/g, '')));
  expect(checks.at(-1)).toEqual([...ROW_STATUSES]);
});
