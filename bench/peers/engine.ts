// What the runner needs from each engine: start its processes on loopback, say which processes
// are which (for the CPU split), tell the client process how to reach it, and stop everything.
import { type Snapshot, treeTicks } from './stats';
import type { Child } from './children';

export interface Role {
  /** Column of the CPU split: server, worker, db… (the client role is added by the runner). */
  name: string;
  /** What the process(es) are, for the report. */
  what: string;
  ticks(before: Snapshot, after: Snapshot): number;
}

export function childRole(name: string, what: string, child: Child): Role {
  return { name, what, ticks: (b, a) => treeTicks(child.pid, b, a) };
}

export interface Variant {
  /** Row label in the report. */
  label: string;
  /** Merged into the client's configuration (e.g. which Temporal workflow type). */
  client: Record<string, unknown>;
  /** Scenarios this variant runs (default: all). */
  scenarios?: string[];
}

export interface RunningEngine {
  roles: Role[];
  /** The client process's configuration: where the engine listens. */
  client: Record<string, unknown>;
  /** CPU the worker's pipeline steps measured on their own threads so far (BURN_MS lines). */
  stepCpuMs(): number;
  stop(): Promise<void>;
}

export interface EngineContext {
  /** A fresh directory for this engine's data and logs; removed afterwards. */
  dir: string;
  /** The most CPU steps in flight at once (the burn thread pool of the worker). */
  cpuConcurrency: number;
}

export interface Engine {
  id: string;
  /** Client adapter in clients.ts. */
  clientKind: 'temporal' | 'restate' | 'dbos' | 'bullmq';
  variants: Variant[];
  /** Package and server versions. */
  versions(): Promise<string>;
  /** Durability settings as run (read back from the server where it can tell). */
  durability: string;
  start(ctx: EngineContext): Promise<RunningEngine>;
}
