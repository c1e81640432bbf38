import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';

/**
 * Child processes of the demo. Each runs in its own process group, so the terminal's Ctrl-C
 * reaches only the demo, which then stops API → workers → server in order (a worker still
 * draining must not lose its Temporal server underneath it).
 */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

export function startProcess(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ManagedProcess {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  return { name, child, logFile, exited };
}

/** SIGTERM, then SIGKILL after the grace period; resolves when the process is gone. */
export async function stopProcess(p: ManagedProcess, graceMs: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    try {
      process.kill(-(p.child.pid ?? 0), 'SIGKILL');
    } catch {
      // gone already
    }
  }, graceMs);
  await p.exited;
  clearTimeout(timer);
}

export async function logTail(file: string, lines = 15): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).slice(-lines).join('\n');
}

/** True when something already listens on host:port. */
export function portTaken(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch((err: unknown) => {
      if (err instanceof ProcessDiedError) throw err;
      return undefined;
    });
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export class ProcessDiedError extends Error {
  override readonly name = 'ProcessDiedError';
}

/** A child that died is reported with the end of its log, not as a timeout later. */
export async function assertAlive(procs: ManagedProcess[]): Promise<void> {
  for (const p of procs) {
    if (p.child.exitCode !== null) {
      throw new ProcessDiedError(
        `${p.name} exited with code ${p.child.exitCode}. Last lines of ${p.logFile}:\n${await logTail(p.logFile)}`,
      );
    }
  }
}
