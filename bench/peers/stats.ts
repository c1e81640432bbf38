// Pure arithmetic of the peers benchmark: latency percentiles, /proc/<pid>/stat parsing and the
// CPU a role's processes spent between two snapshots. No I/O here, so test/unit can pin it down.

/** Linux reports utime/stime in clock ticks of USER_HZ, which is 100 on every Linux we run on. */
export const USER_HZ = 100;

/** Nearest-rank percentile (p in 0–100) of unsorted samples; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is not within 0–100`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime of the process (all its threads) + cutime + cstime of the children it reaped, in ticks. */
  ticks: number;
}

/**
 * One line of /proc/<pid>/stat. The command name sits in parentheses and may itself hold spaces
 * and parentheses, so fields are counted from the last ')'. Fields (1-based, proc(5)): 4 ppid,
 * 14 utime, 15 stime, 16 cutime, 17 cstime.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  const rest = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state).
  const field = (n: number) => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc/<pid>/stat field ${n} is missing in: ${line.slice(0, 80)}`);
    return v;
  };
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    ppid: field(4),
    ticks: field(14) + field(15) + field(16) + field(17),
  };
}

/** The non-idle ticks of the whole machine from the first ("cpu ") line of /proc/stat. */
export function parseMachineTicks(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate "cpu" line');
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice).
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return [user, nice, system, irq, softirq, steal].reduce<number>((a, v) => a + (v ?? 0), 0);
}

export interface Proc extends ProcStat {
  /** /proc/<pid>/cmdline with NULs as spaces (PostgreSQL backends show "postgres: user db host(port) state"). */
  cmdline: string;
}

export type Snapshot = ReadonlyMap<number, Proc>;

/** A root and every descendant of it in one snapshot. */
export function treeOf(root: number, snap: Snapshot): number[] {
  const members = snap.has(root) ? [root] : [];
  const children = new Map<number, number[]>();
  for (const p of snap.values()) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  for (let i = 0; i < members.length; i++) members.push(...(children.get(members[i]!) ?? []));
  return members;
}

/**
 * Ticks a process tree spent between two snapshots. Sums each side over the tree as it was then:
 * a child that exited and was reaped inside the window moved its whole lifetime into the parent's
 * cutime/cstime, and subtracting what it had at the start leaves exactly its in-window share.
 */
export function treeTicks(root: number, before: Snapshot, after: Snapshot): number {
  const sum = (snap: Snapshot) => treeOf(root, snap).reduce((a, pid) => a + snap.get(pid)!.ticks, 0);
  return sum(after) - sum(before);
}

/**
 * Ticks of processes we did not start and cannot follow as a tree (PostgreSQL backends of one
 * database): per pid, after − before (0 before for a pid that appeared). A pid that vanished
 * inside the window is lost — its time went to a parent that serves others too — so it adds 0.
 */
export function selectedTicks(select: (p: Proc) => boolean, before: Snapshot, after: Snapshot): number {
  let total = 0;
  for (const p of after.values()) {
    if (!select(p)) continue;
    const start = before.get(p.pid);
    // A recycled pid (different command) started inside the window.
    total += p.ticks - (start && start.comm === p.comm ? start.ticks : 0);
  }
  return total;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  return {
    count: latenciesMs.length,
    p50: percentile(latenciesMs, 50),
    p99: percentile(latenciesMs, 99),
    max: latenciesMs.length ? Math.max(...latenciesMs) : NaN,
  };
}
