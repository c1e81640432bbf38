import {
  parseMachineTicks,
  parseProcStat,
  percentile,
  type Proc,
  selectedTicks,
  summarize,
  treeOf,
  treeTicks,
} from '../../bench/peers/stats';

// The peers benchmark (bench/peers.ts) reports p50/p99 and CPU per process from /proc; these pin
// the arithmetic it rests on.

describe('percentile (nearest rank)', () => {
  test('p50 and p99 of 1..100 are 50 and 99; p100 is the max; p0 the min', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // unsorted on purpose
    expect([percentile(xs, 50), percentile(xs, 99), percentile(xs, 100), percentile(xs, 0)]).toEqual([50, 99, 100, 1]);
  });

  test('small samples: p99 of 10 values is the largest, p50 the 5th', () => {
    const xs = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10];
    expect([percentile(xs, 50), percentile(xs, 99)]).toEqual([5, 10]);
  });

  test('no samples is NaN; a percentile outside 0–100 is refused', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  test('summarize does not reorder the caller’s array', () => {
    const xs = [3, 1, 2];
    expect(summarize(xs)).toEqual({ count: 3, p50: 2, p99: 3, max: 3 });
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('/proc parsing', () => {
  // A real line's shape (proc(5)); the command holds a space and a ')' as Node worker threads and
  // PostgreSQL can.
  const line = (pid: number, comm: string, ppid: number, utime: number, stime: number, cutime: number, cstime: number) =>
    `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 1234 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 11 0 5678 123456789 4567 ` +
    '18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';

  test('fields are counted from the last parenthesis: ticks = utime + stime + cutime + cstime', () => {
    expect(parseProcStat(line(4242, 'node (worker) x', 17, 100, 20, 3, 4))).toEqual({
      pid: 4242,
      comm: 'node (worker) x',
      ppid: 17,
      ticks: 127,
    });
  });

  test('a truncated line is an error, not NaN ticks', () => {
    expect(() => parseProcStat('12 (x) S 1 2 3')).toThrow(/field 14/);
    expect(() => parseProcStat('garbage')).toThrow(/not a \/proc/);
  });

  test('machine ticks: user + nice + system + irq + softirq + steal (not idle, not iowait)', () => {
    const stat = 'cpu  100 5 50 9999 77 3 2 1 0 0\ncpu0 50 2 25 5000 40 1 1 0 0 0\nintr 1 2 3\n';
    expect(parseMachineTicks(stat)).toBe(100 + 5 + 50 + 3 + 2 + 1);
    expect(() => parseMachineTicks('intr 1\n')).toThrow(/cpu/);
  });
});

describe('CPU of a process tree between two snapshots', () => {
  const proc = (pid: number, ppid: number, ticks: number, cmdline = '', comm = 'node'): Proc => ({ pid, ppid, ticks, cmdline, comm });
  const snap = (...ps: Proc[]) => new Map(ps.map((p) => [p.pid, p]));

  test('the tree is the root and all its descendants, not its siblings', () => {
    const s = snap(proc(1, 0, 0), proc(10, 1, 0), proc(11, 10, 0), proc(12, 11, 0), proc(20, 1, 0));
    expect(treeOf(10, s).sort()).toEqual([10, 11, 12]);
    expect(treeOf(99, s)).toEqual([]);
  });

  test('growth of the root and a child that appeared counts', () => {
    const before = snap(proc(10, 1, 100));
    const after = snap(proc(10, 1, 150), proc(11, 10, 30));
    expect(treeTicks(10, before, after)).toBe(80);
  });

  test('a child reaped inside the window counts once: its lifetime moved to the parent’s cutime', () => {
    // Child had 40 ticks at the start, ran 25 more, exited: parent's cutime grew by its 65.
    const before = snap(proc(10, 1, 100), proc(11, 10, 40));
    const after = snap(proc(10, 1, 100 + 10 + 65));
    expect(treeTicks(10, before, after)).toBe(10 + 25);
  });

  test('selected processes: per pid growth; a new pid counts whole; a vanished or recycled one adds nothing of its past', () => {
    const isBackend = (p: Proc) => p.cmdline.includes(' mydb ');
    const before = snap(
      proc(30, 2, 500, 'postgres: 15/main: postgres mydb 127.0.0.1(1) idle'),
      proc(31, 2, 70, 'postgres: 15/main: postgres mydb 127.0.0.1(2) idle'), // vanishes
      proc(32, 2, 900, 'postgres: 15/main: postgres other 127.0.0.1(3) idle'),
      proc(33, 2, 400, 'x', 'bash'), // pid recycled by a backend of ours
    );
    const after = snap(
      proc(30, 2, 560, 'postgres: 15/main: postgres mydb 127.0.0.1(1) idle'),
      proc(32, 2, 990, 'postgres: 15/main: postgres other 127.0.0.1(3) idle'),
      proc(33, 2, 12, 'postgres: 15/main: postgres mydb 127.0.0.1(4) idle', 'postgres'),
      proc(34, 2, 20, 'postgres: 15/main: postgres mydb 127.0.0.1(5) idle'),
    );
    expect(selectedTicks(isBackend, before, after)).toBe(60 + 12 + 20);
  });
});
