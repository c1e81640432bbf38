// The one pipeline every engine runs: three steps, each using the previous one's output.
//   step1: n + 1        step2: burn `work` iterations of CPU, then × 2        step3: + 3
// `work` is 0 in the trivial scenario; in the CPU scenario it is the iteration count the bench
// calibrated to ≈2 CPU-seconds, identical for every engine, so each engine does the same work.
//
// The CPU work runs on a worker thread (a pool as large as the scenario's concurrency), as a real
// pipeline hands ffmpeg to a child: a 2-s synchronous loop on the event loop would stall the
// engine's own I/O (polls, heartbeats, HTTP/2 frames) in that process and serialise the two
// concurrent workflows onto one core. Threads are in the same process, so /proc counts them.
import { Worker } from 'node:worker_threads';

export interface PipelineInput {
  n: number;
  work: number;
}

export const step1 = (n: number): number => n + 1;
export const step3 = (x: number): number => x + 3;
export const expected = (n: number): number => (n + 1) * 2 + 3;

/** step2 on top of the burn: the burn's final xorshift state is never 0, so this is x × 2 — but the JIT cannot drop the loop. */
export async function step2(x: number, work: number): Promise<number> {
  const state = work > 0 ? await burn(work) : 1;
  return x * 2 + (state === 0 ? 1 : 0);
}

// xorshift32 in a plain loop: integer work with no allocation and no memory traffic, so its
// CPU cost hardly depends on what else runs in the process.
// The thread times itself from /proc/thread-self/stat (utime + stime of this thread alone, in
// 10-ms ticks), so the step's CPU is measured where it runs, whatever else shares the process.
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const ticks = () => {
  const s = readFileSync('/proc/thread-self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};
parentPort.on('message', ({ id, iterations }) => {
  const t0 = ticks();
  let s = 2463534242;
  for (let i = 0; i < iterations; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0; }
  parentPort.postMessage({ id, state: s, cpuMs: (ticks() - t0) * 10 });
});
`;

interface Slot {
  thread: Worker;
  busy: boolean;
}

let pool: Slot[] = [];
const waiting: (() => void)[] = [];
const pending = new Map<number, (r: { state: number; cpuMs: number }) => void>();
let nextId = 0;
let announce = false;

/** The line a worker prints after each CPU step: the host adds them up for the step's measured CPU. */
export const BURN_LINE = /^BURN_MS (\d+(?:\.\d+)?)$/;

/**
 * Threads for the CPU step, `unref`'d so they never keep a process alive. Workers pass
 * `announce` so each step's thread CPU goes to stdout as a BURN_MS line.
 */
export function configureBurnThreads(size: number, announceBurns = false): void {
  announce = announceBurns;
  for (const slot of pool) void slot.thread.terminate();
  pool = Array.from({ length: size }, () => {
    const thread = new Worker(THREAD_SOURCE, { eval: true });
    thread.unref();
    thread.on('message', ({ id, state, cpuMs }: { id: number; state: number; cpuMs: number }) => {
      pending.get(id)?.({ state, cpuMs });
      pending.delete(id);
    });
    return { thread, busy: false };
  });
}

export async function burn(iterations: number): Promise<number> {
  const { state, cpuMs } = await burnTimed(iterations);
  if (announce) process.stdout.write(`BURN_MS ${cpuMs}\n`);
  return state;
}

async function burnTimed(iterations: number): Promise<{ state: number; cpuMs: number }> {
  if (pool.length === 0) configureBurnThreads(2);
  let slot = pool.find((s) => !s.busy);
  while (!slot) {
    await new Promise<void>((resolve) => waiting.push(resolve));
    slot = pool.find((s) => !s.busy);
  }
  slot.busy = true;
  try {
    const id = nextId++;
    return await new Promise<{ state: number; cpuMs: number }>((resolve) => {
      pending.set(id, resolve);
      slot.thread.postMessage({ id, iterations });
    });
  } finally {
    slot.busy = false;
    waiting.shift()?.();
  }
}

export async function stopBurnThreads(): Promise<void> {
  await Promise.all(pool.map((s) => s.thread.terminate()));
  pool = [];
}

/**
 * Iterations that cost `targetMs` of CPU on this machine, timed by the thread's own CPU (not wall
 * time, so a loaded machine does not shrink the step). The same count can cost a little more or
 * less in a busier moment: each run's steps are measured again where they run (BURN_MS).
 */
export async function calibrate(targetMs: number): Promise<{ iterations: number; measuredMs: number }> {
  configureBurnThreads(1);
  try {
    await burnTimed(1e6); // JIT warm-up
    let iterations = 5e7;
    let ms = 0;
    for (let round = 0; round < 8; round++) {
      ms = (await burnTimed(iterations)).cpuMs;
      if (ms >= 300) break;
      iterations *= 4;
    }
    const scaled = Math.round((iterations * targetMs) / Math.max(ms, 10));
    return { iterations: scaled, measuredMs: (await burnTimed(scaled)).cpuMs };
  } finally {
    await stopBurnThreads();
  }
}
