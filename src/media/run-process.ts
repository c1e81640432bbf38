import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with each complete stdout line (ffmpeg's -progress output). */
  onStdoutLine?: (line: string) => void;
  /**
   * Stall watchdog: `progressOf` turns a stdout line into a position (ffmpeg's out_time in
   * seconds). If the position has not advanced for `timeoutMs` — counted from the start, so a
   * tool frozen before its first progress line is caught too — the whole process group is
   * killed and the run rejects with `ProcessStalledError`.
   */
  stall?: {
    timeoutMs: number;
    progressOf: (line: string) => number | undefined;
    /** Allowance before the first position (encoder start-up, look-ahead); default 3 × timeoutMs. */
    firstProgressMs?: number;
  };
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** The tail of stderr: enough to explain a failure, bounded so a chatty run cannot bloat memory. */
  stderrTail: string;
}

const STDERR_TAIL_BYTES = 8 * 1024;
const STDOUT_KEEP_BYTES = 4 * 1024 * 1024;

export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
}

/** The tool made no progress for the watchdog's timeout and was killed. */
export class ProcessStalledError extends Error {
  override readonly name = 'ProcessStalledError';
  constructor(
    readonly cmd: string,
    readonly stalledForMs: number,
    /** Last position the tool reported (undefined: it never reported one). */
    readonly lastPosition: number | undefined,
  ) {
    super(
      `${cmd.split('/').pop() ?? cmd} made no progress for ${Math.round(stalledForMs / 1000)} s` +
        (lastPosition === undefined ? ' (no progress reported at all)' : ` (stuck at ${lastPosition.toFixed(1)} s)`),
    );
  }
}

const SETPRIV_CANDIDATES = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'];
let setprivPath: string | null | undefined;

/**
 * util-linux `setpriv`, which sets PR_SET_PDEATHSIG and then execs the tool: the kernel kills
 * the tool when the worker dies, even by SIGKILL (Node cannot ask for this itself). The
 * signal is tied to the thread that forked; libuv spawns from the main thread, which lives
 * exactly as long as the worker process. null when it is not installed.
 */
export function parentDeathSignalHelper(): string | null {
  if (setprivPath !== undefined) return setprivPath;
  setprivPath = null;
  for (const candidate of SETPRIV_CANDIDATES) {
    try {
      accessSync(candidate, constants.X_OK);
      setprivPath = candidate;
      break;
    } catch {
      // try the next one
    }
  }
  return setprivPath;
}

/**
 * Runs a media tool without a shell, in its own process group, so that cancelling kills the
 * whole group (ffmpeg may fork helpers) and a Ctrl-C aimed at the terminal's foreground
 * group does not reach it behind the worker's back. With `setpriv` present the tool also
 * dies with the worker (parent-death signal), so a SIGKILLed worker leaves no orphan.
 */
export function runProcess(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(opts.signal.reason ?? new Error('aborted'));
      return;
    }
    const helper = parentDeathSignalHelper();
    const [file, argv] = helper ? [helper, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderrTail = '';
    let pending = '';
    let stalled: ProcessStalledError | undefined;

    const killGroup = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        // SIGKILL also ends a SIGSTOPped process; the group takes any helpers ffmpeg forked.
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => killGroup();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // If this process exits while the tool runs, take the tool with it.
    process.once('exit', killGroup);

    let lastPosition: number | undefined;
    let lastAdvance = Date.now();
    const watchdog = opts.stall
      ? setInterval(
          () => {
            const idle = Date.now() - lastAdvance;
            const limit =
              lastPosition === undefined ? (opts.stall?.firstProgressMs ?? 3 * (opts.stall?.timeoutMs ?? 0)) : (opts.stall?.timeoutMs ?? 0);
            if (idle >= limit && !stalled) {
              stalled = new ProcessStalledError(cmd, idle, lastPosition);
              killGroup();
            }
          },
          Math.max(100, Math.min(1000, Math.floor(opts.stall.timeoutMs / 4))),
        )
      : undefined;

    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      if (stdout.length < STDOUT_KEEP_BYTES) stdout += chunk;
      if (!opts.onStdoutLine && !opts.stall) return;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (opts.stall) {
          const pos = opts.stall.progressOf(line);
          if (pos !== undefined && (lastPosition === undefined || pos > lastPosition)) {
            lastPosition = pos;
            lastAdvance = Date.now();
          }
        }
        opts.onStdoutLine?.(line);
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });

    const cleanup = () => {
      if (watchdog) clearInterval(watchdog);
      opts.signal?.removeEventListener('abort', onAbort);
      process.removeListener('exit', killGroup);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(
        err.code === 'ENOENT'
          ? new ProcessStartError(`${cmd} not found: install ffmpeg (apt-get install ffmpeg) or set FFMPEG_PATH/FFPROBE_PATH`)
          : err,
      );
    });
    child.once('close', (code, signal) => {
      cleanup();
      if (opts.signal?.aborted) {
        reject(opts.signal.reason ?? new Error('aborted'));
        return;
      }
      if (stalled) {
        reject(stalled);
        return;
      }
      // setpriv exits 127 when it cannot exec the tool (not installed).
      if (helper && code === 127 && /failed to execute|No such file/i.test(stderrTail)) {
        reject(new ProcessStartError(`${cmd} not found: install ffmpeg (apt-get install ffmpeg) or set FFMPEG_PATH/FFPROBE_PATH`));
        return;
      }
      resolve({ code, signal, stdout, stderrTail });
    });
  });
}

/** The last meaningful line of a tool's stderr, for error messages people read. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.at(-1) ?? 'no error output';
}
