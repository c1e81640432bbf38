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
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, iterations }) => {
  let s = 2463534242;
  for (let i = 0; i < iterations; i++) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0; }
  parentPort.postMessage({ id, state: s });
});
`;

interface Slot {
  thread: Worker;
  busy: boolean;
}

let pool: Slot[] = [];
const waiting: (() => void)[] = [];
const pending = new Map<number, (state: number) => void>();
let nextId = 0;

/** Threads for the CPU step; created on first use, `unref`'d so they never keep a process alive. */
export function configureBurnThreads(size: number): void {
  for (const slot of pool) void slot.thread.terminate();
  pool = Array.from({ length: size }, () => {
    const thread = new Worker(THREAD_SOURCE, { eval: true });
    thread.unref();
    thread.on('message', ({ id, state }: { id: number; state: number }) => {
      pending.get(id)?.(state);
      pending.delete(id);
    });
    return { thread, busy: false };
  });
}

export async function burn(iterations: number): Promise<number> {
  if (pool.length === 0) configureBurnThreads(2);
  let slot = pool.find((s) => !s.busy);
  while (!slot) {
    await new Promise<void>((resolve) => waiting.push(resolve));
    slot = pool.find((s) => !s.busy);
  }
  slot.busy = true;
  try {
    const id = nextId++;
    return await new Promise<number>((resolve) => {
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
 * Iterations that cost `targetMs` of CPU on this machine: timed with process.cpuUsage (CPU, not
 * wall time, so a loaded machine does not shrink the step) while this process does nothing else.
 */
export async function calibrate(targetMs: number): Promise<{ iterations: number; measuredMs: number }> {
  configureBurnThreads(1);
  try {
    await burn(1e6); // JIT warm-up
    let iterations = 5e7;
    let ms = 0;
    for (let round = 0; round < 6; round++) {
      const before = process.cpuUsage();
      await burn(iterations);
      const d = process.cpuUsage(before);
      ms = (d.user + d.system) / 1000;
      if (ms >= 250) break;
      iterations *= 4;
    }
    const scaled = Math.round((iterations * targetMs) / ms);
    const before = process.cpuUsage();
    await burn(scaled);
    const d = process.cpuUsage(before);
    return { iterations: scaled, measuredMs: (d.user + d.system) / 1000 };
  } finally {
    await stopBurnThreads();
  }
}
