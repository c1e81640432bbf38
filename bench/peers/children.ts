// Processes the bench starts: each in its own process group (so its children go with it), its
// output kept in a log file and the last lines in memory for error messages, every one of them
// registered so an error, a watchdog or Ctrl-C still kills all of them — and only them.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BURN_LINE } from './pipeline';

export const BENCH_DIR = path.resolve(__dirname);
export const ROOT = path.resolve(__dirname, '..', '..');

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  /** The last lines of stdout+stderr. */
  tail: string[];
  /** Sum of the BURN_MS lines the process printed: CPU its pipeline steps measured on their threads. */
  burnMs: number;
  /** Resolves with the first line matching `pattern` (prefix protocol of our own processes). */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  send(line: string): void;
  exited: Promise<number | null>;
}

const running = new Set<Child>();

export function startChild(name: string, command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; logFile: string }): Child {
  const proc = spawn(command, args, {
    env: { ...process.env, ...opts.env },
    cwd: ROOT,
    detached: true, // own process group: stop() takes tsx/esbuild helpers along
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const log = createWriteStream(opts.logFile);
  const tail: string[] = [];
  const listeners: ((line: string) => void)[] = [];
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      const burned = BURN_LINE.exec(line);
      if (burned) {
        child.burnMs += Number(burned[1]);
        continue; // one per CPU step: not worth a place in the tail
      }
      tail.push(line);
      if (tail.length > 40) tail.shift();
      for (const l of [...listeners]) l(line);
    }
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  proc.stdin!.on('error', () => undefined); // a child that died before reading its stdin
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      running.delete(child);
      log.end();
      resolve(code);
    }),
  );
  const child: Child = {
    name,
    pid: proc.pid,
    proc,
    tail,
    burnMs: 0,
    exited,
    send: (line) => proc.stdin!.write(`${line}\n`),
    waitForLine: (pattern, timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        const done = (err?: Error, line?: string) => {
          clearTimeout(timer);
          listeners.splice(listeners.indexOf(onLine), 1);
          if (err) reject(err);
          else resolve(line!);
        };
        const onLine = (line: string) => {
          if (pattern.test(line)) done(undefined, line);
        };
        const timer = setTimeout(
          () => done(new Error(`${name}: no ${pattern} within ${timeoutMs / 1000} s; last output:\n${tail.slice(-15).join('\n')}`)),
          timeoutMs,
        );
        listeners.push(onLine);
        void exited.then((code) =>
          done(new Error(`${name} exited (${code}) before ${pattern}; last output:\n${tail.slice(-15).join('\n')}`)),
        );
      }),
  };
  running.add(child);
  return child;
}

/** A TypeScript file of bench/peers run by this Node with tsx's loader (no tsx CLI parent process). */
export function startNodeChild(name: string, script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; logFile: string }): Child {
  return startChild(name, process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, script), ...args], opts);
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`. */
export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (!running.has(child)) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const killed = await Promise.race([child.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), graceMs))]);
  if (!killed) {
    signal('SIGKILL');
    await child.exited;
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => stopChild(c, 2000)));
}

/** Last resort when the bench itself is dying: synchronous SIGKILL of every group we started. */
export function killAllSync(): void {
  for (const c of running) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready within ${timeoutMs / 1000} s${last ? `: ${String(last)}` : ''}`);
}

export function portOpen(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(undefined));
  });
}

export class Timeout extends Error {}

/** Rejects with Timeout after `ms`; the caller tears the engine down. */
export function watchdog<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(`${what}: watchdog fired after ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([work, limit]).finally(() => clearTimeout(timer));
}

/** Stops children in reverse start order (workers before their server). */
export async function stopChildren(children: readonly Child[]): Promise<void> {
  for (const c of [...children].reverse()) await stopChild(c);
}
