import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { END, renderPeersMarkdown, START, writePeersSection } from '../../bench/peers/report';
import { type PeersReport, type Row, scenarios } from '../../bench/peers/runner';

// The peers section is generated into docs/benchmarks.md by `npm run bench:peers` and by the
// top-level bench: it must replace only its own block, and its prose must quote the table's numbers.

function row(
  engine: string,
  label: string,
  scenario: 'trivial' | 'cpu',
  server: number,
  worker: number,
  client: number,
  perSecond: number,
): Row {
  return {
    engine,
    label,
    scenario,
    completed: 10,
    failures: 0,
    wallS: 10 / perSecond,
    perSecond,
    p50: 100,
    p99: 200,
    roles: [
      { name: 'server', what: 's', msPerWorkflow: server },
      { name: 'worker', what: 'w', msPerWorkflow: worker },
      { name: 'client', what: 'c', msPerWorkflow: client },
    ],
    stepMsPerWorkflow: scenario === 'cpu' ? 2000 : 0,
    totalMsPerWorkflow: server + worker + client,
    restOfMachineMsPerWorkflow: 1,
    loadAvg: 1,
  };
}

const report: PeersReport = {
  date: '2026-12-06',
  quick: false,
  node: 'v20.20.2',
  cores: 2,
  stepIterations: 1000,
  stepMeasuredMs: 2000,
  settleMs: 1000,
  scenarios: scenarios(false),
  engines: [
    { id: 'temporal', versions: 'T 1', durability: 'wal', startS: 1 },
    { id: 'restate', versions: 'R 1', durability: 'fsync', startS: 1 },
  ],
  rows: [
    row('temporal', 'Temporal dev server (activities)', 'trivial', 40, 15, 5, 30),
    row('temporal', 'Temporal dev server (local activities)', 'trivial', 20, 8, 2, 60),
    row('restate', 'Restate', 'trivial', 3, 4, 5, 200),
    row('temporal', 'Temporal dev server (activities)', 'cpu', 40, 2015, 5, 0.5),
    row('restate', 'Restate', 'cpu', 3, 2004, 5, 0.9),
  ],
  wallS: 300,
};

test('the comparison quotes the ratio and the per-process split from the rows', () => {
  const md = renderPeersMarkdown(report);
  // 60 ms vs 12 ms → 5.0×; local activities 30 ms → 2.5×.
  expect(md).toContain('spends 60.0 ms of machine CPU per workflow (server 40.0, worker 15.0)');
  expect(md).toContain('5.0× Restate (12.0 ms)');
  expect(md).toContain('bring it to 30.0 ms and 60.0/s, 2.5× Restate');
  // CPU scenario: beyond the 2000-ms step, 60 vs 12.
  expect(md).toContain('beyond the step Temporal spends 60.0 ms per workflow against 12.0–12.0 ms');
  expect(md).toContain('| Restate | 0.9 | 100 | 200 | **2012.0** | 3.0 | 2004.0 | 5.0 | 2000.0 | 12.0 | 1.0 (load 1.0) |');
  expect(md).toContain('| Restate | 200.0 | 100 | 200 | **12.0** | 3.0 | 4.0 | 5.0 | 1.0 (load 1.0) |');
});

test('a failed engine is a row that says so, and the comparison does not invent numbers', () => {
  const failed: PeersReport = {
    ...report,
    rows: [
      { ...row('temporal', 'Temporal dev server (activities)', 'trivial', 0, 0, 0, 1), error: 'watchdog fired after 240 s', roles: [] },
    ],
  };
  const md = renderPeersMarkdown(failed);
  expect(md).toContain('| Temporal dev server (activities) | watchdog fired after 240 s |');
  expect(md).toContain('Not enough engines completed');
});

describe('writePeersSection', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'peers-report-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test('replaces only what is between the markers', async () => {
    const file = path.join(dir, 'b.md');
    await writeFile(file, `# B\n\n## Peers\n\n${START}\nold\n${END}\n\n## After\n\ntext\n`);
    await writePeersSection('new numbers\n', file);
    expect(await readFile(file, 'utf8')).toBe(`# B\n\n## Peers\n\n${START}\nnew numbers\n${END}\n\n## After\n\ntext\n`);
  });

  test('adds a Peers section when the markers are absent; refuses a lone marker', async () => {
    const file = path.join(dir, 'b.md');
    await writeFile(file, '# B\n\ntext\n');
    await writePeersSection('numbers', file);
    expect(await readFile(file, 'utf8')).toBe(`# B\n\ntext\n\n## Peers\n\n${START}\nnumbers\n${END}\n`);
    await writeFile(file, `# B\n${START}\n`);
    await expect(writePeersSection('numbers', file)).rejects.toThrow(/only one of the peers markers/);
  });
});
