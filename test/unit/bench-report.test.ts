import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { renderBatch, renderKill, renderSummary, type KillResult, type Machine } from '../../bench/all/render';
import { median, replaceRows, replaceSection, sectionOf, verdict } from '../../bench/all/sections';

// `npm run bench` rewrites the generated blocks of docs/benchmarks.md: only what is between a
// block's markers may change, and a missed target must read as missed.

const doc = [
  '# Benchmarks',
  '',
  'Hand-written prose.',
  '',
  '<!-- a:start -->',
  'old a',
  '<!-- a:end -->',
  '',
  'More prose, between two blocks.',
  '',
  '<!-- b:start -->',
  'old b',
  '<!-- b:end -->',
  'Trailing prose.',
  '',
].join('\n');

describe('replaceSection', () => {
  test('replaces only what is between its own markers', () => {
    const next = replaceSection(doc, 'a', 'new a\n\nsecond line');
    expect(sectionOf(next, 'a')).toBe('new a\n\nsecond line');
    expect(sectionOf(next, 'b')).toBe('old b');
    expect(next.replace(/<!-- a:start -->[\s\S]*<!-- a:end -->/, '')).toBe(doc.replace(/<!-- a:start -->[\s\S]*<!-- a:end -->/, ''));
  });

  test('is idempotent: the same block twice gives the same document', () => {
    const once = replaceSection(doc, 'b', 'x');
    expect(replaceSection(once, 'b', 'x')).toBe(once);
  });

  test('appends a block under a heading when its markers are missing', () => {
    const next = replaceSection(doc, 'c', 'new c', 'Section C');
    expect(next.startsWith(doc.trimEnd())).toBe(true);
    expect(next.endsWith('\n\n## Section C\n\n<!-- c:start -->\nnew c\n<!-- c:end -->\n')).toBe(true);
  });

  test('refuses a document with one marker of a pair, or the end before the start', () => {
    expect(() => replaceSection(doc.replace('<!-- a:end -->', ''), 'a', 'x')).toThrow(/only one/);
    expect(() => replaceSection('<!-- a:end -->\n<!-- a:start -->', 'a', 'x')).toThrow(/only one/);
  });

  test('refuses a pair of markers that appears twice', () => {
    expect(() => replaceSection(`${doc}\n<!-- a:start -->\n<!-- a:end -->\n`, 'a', 'x')).toThrow(/twice/);
  });

  test('works on the real docs/benchmarks.md: every generated block is there once', async () => {
    const real = await readFile(path.resolve(__dirname, '..', '..', 'docs', 'benchmarks.md'), 'utf8');
    for (const name of [
      'bench-summary',
      'bench-transcode',
      'bench-upload',
      'orchestration',
      'bench-batch',
      'bench-kill',
      'bench-search',
      'bench-quota',
      'peers',
    ])
      expect(replaceSection(real, name, `generated ${name}`)).toContain(`<!-- ${name}:start -->\ngenerated ${name}\n<!-- ${name}:end -->`);
  });

  test('round trip through a file leaves the rest byte for byte', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-report-'));
    try {
      const file = path.join(dir, 'b.md');
      await writeFile(file, doc);
      await writeFile(file, replaceSection(replaceSection(await readFile(file, 'utf8'), 'a', 'A'), 'b', 'B'));
      expect(await readFile(file, 'utf8')).toBe(doc.replace('old a', 'A').replace('old b', 'B'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('verdict', () => {
  test('says met or not met with the measured figure', () => {
    expect(verdict({ op: '≤', value: 1, unit: ' %' }, 2)).toBe('target ≤ 1.0 %: **not met**, 2.0 %');
    expect(verdict({ op: '≤', value: 1, unit: ' %' }, 0.8)).toBe('target ≤ 1.0 %: met, 0.8 %');
    expect(verdict({ op: '≥', value: 0.95, unit: '', digits: 2 }, 0.97)).toBe('target ≥ 0.95: met, 0.97');
    expect(verdict({ op: '≥', value: 0.95, unit: '', digits: 2 }, 0.9)).toBe('target ≥ 0.95: **not met**, 0.90');
    expect(verdict({ op: '≤', value: 5, unit: ' s' }, NaN)).toBe('target ≤ 5.0 s: **not measured**');
  });

  test('median of odd and even counts, NaN of nothing', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});

const machine: Machine = {
  date: '2026-12-06 21:00 UTC',
  nproc: 2,
  cpuModel: 'Test CPU @ 2.0GHz',
  load: 3.2,
  node: 'v20.20.2',
  ffmpeg: 'ffmpeg 5.1.9',
  temporal: '1.5.1 (Server 1.29.1)',
};

const kill: KillResult = {
  type: 'transcode',
  clipSec: 12,
  workSec: 12,
  percentAtKill: 50,
  killToRetryMs: 11_200,
  killToRetryHistoryMs: 11_200,
  lostEncodeMs: 4_000,
  retriedActivities: 1,
  attempts: [2],
  replacementReadyMs: 3_000,
  heartbeatTimeoutMs: 10_000,
  leaseTtlMs: 2_500,
};

describe('rendered sections', () => {
  test('every section names the date, the machine and the versions', () => {
    const text = renderKill([kill], machine, 'npm run bench');
    for (const part of [
      '2026-12-06 21:00 UTC',
      '2 cores (nproc)',
      'Test CPU @ 2.0GHz',
      'Node v20.20.2',
      'ffmpeg 5.1.9',
      'Temporal CLI 1.5.1',
    ])
      expect(text).toContain(part);
  });

  test('a missed target is marked plainly, beside the baseline', () => {
    const text = renderKill([kill], machine, 'npm run bench');
    expect(text).toContain('target ≤ 5.0 s: **not met**, 11.2 s');
    expect(text).toContain('6.0 s of video (50.0 % of it)');
    // The detector the figure depends on is named: the lease, or (turned off) the heartbeat timeout alone.
    expect(text).toContain('liveness lease in PostgreSQL (2.5 s');
    expect(renderKill([{ ...kill, leaseTtlMs: 0 }], machine, 'npm run bench')).toContain(
      'a kill is noticed only when the heartbeat timeout runs out',
    );
    const batch = renderBatch(
      { uploads: 10, batchMs: 200_000, bareMs: 180_000, bareRunsMs: [18_000], directTranscodeMs: [9_000] },
      machine,
      'npm run bench',
      'clip',
    );
    expect(batch).toContain('| 10 | 200.0 s | 180.0 s | **0.90** |');
    expect(batch).toContain('target ≥ 0.95: **not met**, 0.90');
  });

  test('the summary has a row per figure, says which parts failed, and the total against 20 min', () => {
    const text = renderSummary({
      machine,
      command: 'npm run bench',
      totalMs: 21 * 60_000,
      parts: [
        { id: 'c', title: '(c) orchestration share', ms: 180_000 },
        { id: 'd', title: '(d) batch', ms: 1000, error: 'boom' },
      ],
      orchestration: { unpolledPct: 2, polledPct: 1.4, events: 53 },
      kills: [kill],
      notes: ['counts reduced'],
    });
    expect(text).toContain('Whole run **21.0 min** wall (target ≤ 20.0 min: **not met**, 21.0 min)');
    expect(text).toContain('target ≤ 1.00 %: **not met**, 2.00 %');
    expect(text).toContain('target ≤ 1.50 %: met, 1.40 %');
    expect(text).toContain('(d) batch | not measured');
    expect(text).toContain('(d) batch — **failed**: boom');
    expect(text).toContain('- counts reduced');
  });
});

describe('replaceRows', () => {
  const old = [
    '| part | measured |',
    '|---|---|',
    '| (a) transcode | 2.6 s |',
    '| (e) kill, single pass | 11.0 s |',
    '| (e) kill, segment | 11.0 s |',
    '',
    'total 17.4 min',
  ].join('\n');
  const fresh = [
    '| part | measured |',
    '|---|---|',
    '| (e) kill, single pass | 2.7 s |',
    '| (e) kill, segment | 3.3 s |',
    '| (c) orchestration | not measured |',
  ].join('\n');

  test('replaces the rows of the re-measured parts only, keeps the rest, and says what was re-run', () => {
    const out = replaceRows(old, fresh, ['(e)'], 'Rows (e) re-measured.');
    expect(out).toContain('| (a) transcode | 2.6 s |');
    expect(out).toContain('| (e) kill, single pass | 2.7 s |');
    expect(out).toContain('| (e) kill, segment | 3.3 s |');
    expect(out).not.toContain('11.0 s');
    expect(out).not.toContain('(c) orchestration');
    expect(out.endsWith('total 17.4 min\n\nRows (e) re-measured.')).toBe(true);
  });
});
