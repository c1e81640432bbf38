/**
 * The workers' scratch dir (`<data dir>/tmp`) on a tmpfs of its own, so the scratch-disk-full
 * fault can fill it and free it again without touching the machine's disk. Mounting needs root
 * (CAP_SYS_ADMIN); without it the fault is named "not injected" at the start.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ScratchDisk {
  /** Why the disk could not be mounted (then the fault is not injected). */
  problem?: string;
  /** Fills the disk to the last byte; resolves with the bytes taken. */
  fill(): Promise<number>;
  /** Frees what fill() took. */
  free(): Promise<void>;
  unmount(): Promise<void>;
}

/** Memory-backed and only as large as what is written: the cap is what a full disk means here. */
const SIZE = '2g';

export async function mountScratchDisk(dataDir: string): Promise<ScratchDisk> {
  const dir = path.join(dataDir, 'tmp');
  await mkdir(dir, { recursive: true });
  const filler = path.join(dir, '.soak-disk-filler');
  let mounted = false;
  let problem: string | undefined;
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${SIZE}`, 'tmpfs', dir]);
    mounted = true;
  } catch (err) {
    problem = `cannot mount a tmpfs for the scratch dir (${(err as Error).message.split('\n')[0]}); needs root`;
  }
  return {
    ...(problem ? { problem } : {}),
    async fill() {
      // fallocate takes the blocks (a sparse file would not fill a tmpfs). A worker writing
      // between the statfs and the fallocate leaves less free than measured, and the fallocate
      // fails whole: measure again and retry.
      for (let attempt = 1; ; attempt++) {
        const s = await statfs(dir);
        const bytes = s.bavail * s.bsize;
        try {
          await run('fallocate', ['-l', String(bytes), filler]);
          return bytes;
        } catch (err) {
          await rm(filler, { force: true });
          if (attempt >= 5) throw err;
        }
      }
    },
    free: () => rm(filler, { force: true }),
    async unmount() {
      if (!mounted) return;
      mounted = false;
      // Lazy: a process that still has a file open there does not keep the run from ending.
      await run('umount', ['-l', dir]);
    },
  };
}
