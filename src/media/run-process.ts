import { spawn } from 'node:child_process';

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with each complete stdout line (ffmpeg's -progress output). */
  onStdoutLine?: (line: string) => void;
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

/**
 * Runs a media tool without a shell, in its own process group, so that cancelling kills the
 * whole group (ffmpeg may fork helpers) and a Ctrl-C aimed at the terminal's foreground
 * group does not reach it behind the worker's back.
 */
export function runProcess(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(opts.signal.reason ?? new Error('aborted'));
      return;
    }
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderrTail = '';
    let pending = '';

    const killGroup = () => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const onAbort = () => killGroup();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // If this process exits while the tool runs, take the tool with it.
    process.once('exit', killGroup);

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (stdout.length < STDOUT_KEEP_BYTES) stdout += chunk;
      if (!opts.onStdoutLine) return;
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        opts.onStdoutLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });

    const cleanup = () => {
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
