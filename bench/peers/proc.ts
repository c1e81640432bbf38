// Reads every process of the machine from /proc (stat + cmdline) and the machine's own counters.
// Cheap enough (a few hundred small reads) to take once before and once after a measured window.
import { readFile, readdir } from 'node:fs/promises';
import { type Proc, parseMachineTicks, parseProcStat } from './stats';

export async function snapshot(): Promise<Map<number, Proc>> {
  const out = new Map<number, Proc>();
  const pids = (await readdir('/proc')).filter((n) => /^\d+$/.test(n));
  await Promise.all(
    pids.map(async (pid) => {
      try {
        const [stat, cmdline] = await Promise.all([
          readFile(`/proc/${pid}/stat`, 'utf8'),
          readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''),
        ]);
        out.set(Number(pid), { ...parseProcStat(stat), cmdline: cmdline.replace(/\0/g, ' ').trim() });
      } catch {
        // exited between the listing and the read
      }
    }),
  );
  return out;
}

export async function machineTicks(): Promise<number> {
  return parseMachineTicks(await readFile('/proc/stat', 'utf8'));
}
