import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseProgressLine } from '../../src/media/ffmpeg-args';
import { parentDeathSignalHelper, ProcessStalledError, runProcess } from '../../src/media/run-process';

const DIST_RUNNER = path.resolve(__dirname, '..', '..', 'dist', 'media', 'run-process.js');

/** Pids whose parent is `ppid` (from /proc). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('runProcess', () => {
  it('finds util-linux setpriv for the parent-death signal on this machine', () => {
    expect(parentDeathSignalHelper()).toMatch(/setpriv$/);
  });

  it('kills the tool within 2 s when the worker that started it is SIGKILLed', async () => {
    // A stand-in worker: node running the built runner with a long-lived tool.
    const script = `require(${JSON.stringify(DIST_RUNNER)}).runProcess('sleep', ['60']).catch(() => {}); setInterval(() => {}, 1000);`;
    const worker = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    const workerPid = worker.pid as number;
    const [tool] = await waitFor(
      'the tool to start',
      () => {
        const kids = childrenOf(workerPid).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'));
        return kids.length ? kids : undefined;
      },
      10_000,
    );
    const killedAt = Date.now();
    process.kill(workerPid, 'SIGKILL');
    await waitFor('the orphaned tool to die', () => !alive(tool as number) || undefined, 2_000);
    expect(Date.now() - killedAt).toBeLessThan(2_000);
  });

  it('kills a tool whose progress stops and rejects with ProcessStalledError', async () => {
    const started = Date.now();
    // One progress line, then silence: the watchdog must fire ~0.5 s later.
    const run = runProcess('sh', ['-c', 'echo out_time_us=1000000; exec sleep 30'], {
      stall: { timeoutMs: 500, progressOf: parseProgressLine },
    });
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProcessStalledError);
    expect((err as ProcessStalledError).lastPosition).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives a tool that never reports progress the first-progress allowance, then kills it', async () => {
    const started = Date.now();
    const err = await runProcess('sleep', ['30'], { stall: { timeoutMs: 200, firstProgressMs: 700, progressOf: parseProgressLine } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProcessStalledError);
    expect((err as ProcessStalledError).lastPosition).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
  });

  it('does not fire the watchdog while progress keeps advancing', async () => {
    const res = await runProcess('sh', ['-c', 'for i in 1 2 3 4 5 6; do echo out_time_us=${i}000000; sleep 0.2; done'], {
      stall: { timeoutMs: 800, progressOf: parseProgressLine },
    });
    expect(res.code).toBe(0);
  });

  it('kills the whole process group on abort, helpers included', async () => {
    const ac = new AbortController();
    const run = runProcess('sh', ['-c', 'sleep 30 & echo started; wait'], { signal: ac.signal, onStdoutLine: () => ac.abort() });
    await expect(run).rejects.toBeDefined();
  });
});
