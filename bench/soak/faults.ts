/**
 * The faults the soak can inject safely on one shared machine, each as one async step from its
 * start to its end (faults overlap: each runs on its own). Kinds it cannot inject yet are named
 * in NOT_INJECTED and printed at the start of every run, never silently skipped.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { QueueRole } from '../../src/pipeline/catalogue';
import { INSUFFICIENT_QUOTA, type FaultStep } from '../../test/support/openai-fault-server';
import { sleep } from '../../test/support/ops';
import type { FaultKind, FaultSpec } from './schedule';
import { ROLES, type SoakStack } from './soak-stack';
import { waitForPoll } from './worker-host';

export const NOT_INJECTED: Partial<Record<FaultKind, string>> = {};

export interface FaultRecord {
  spec: FaultSpec;
  injected: boolean;
  /** Seconds since the soak started. */
  startSec: number;
  endSec: number;
  /** Seconds until the hit part was back (a restarted process ready); AI faults: filled in by the report. */
  recoverySec?: number;
  note?: string;
}

export interface FaultContext {
  soak: SoakStack;
  /** Seconds since the soak started. */
  now(): number;
  /** Resolves once the upload was submitted (or undefined when it never will be). */
  submitted(uploadId: string): Promise<boolean>;
  /** The simulated operator deleted it (the checker then expects nothing left of it). */
  markDeleted(uploadId: string): void;
  /** Processes it SIGSTOPped and not yet SIGCONTed (the cleanup resumes them). */
  stopped: Set<number>;
}

const roleOf = (w: FaultSpec['worker']): QueueRole => (w === 'indexer' ? 'index' : (w ?? 'media'));

/** One restart per role at a time: two faults on the same kind must not start two replacements. */
const roleLocks = new Map<QueueRole, Promise<unknown>>();
function serial<T>(role: QueueRole, fn: () => Promise<T>): Promise<T> {
  const prev = roleLocks.get(role) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  roleLocks.set(
    role,
    next.catch(() => undefined),
  );
  return next;
}

async function restart(ctx: FaultContext, role: QueueRole, signal: NodeJS.Signals): Promise<void> {
  // A replacement can fail to start while Temporal itself is down (another fault): try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await ctx.soak.restartWorker(role, signal);
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(2_000);
    }
  }
}

const AI_STEPS: Partial<Record<FaultKind, FaultStep>> = {
  'ai-storm': { kind: 'status', status: 429, headers: { 'retry-after': '1' } },
  'ai-outage': { kind: 'status', status: 503 },
  'ai-hang': { kind: 'hang' },
  'ai-insufficient-quota': INSUFFICIENT_QUOTA,
  'ai-malformed': { kind: 'malformed' },
};

export async function injectFault(spec: FaultSpec, ctx: FaultContext): Promise<FaultRecord> {
  const startSec = ctx.now();
  const rec: FaultRecord = { spec, injected: true, startSec, endSec: startSec };
  const done = (note?: string, injected = true): FaultRecord => {
    rec.endSec = ctx.now();
    rec.injected = injected;
    if (note) rec.note = note;
    return rec;
  };
  const { soak } = ctx;
  const why = NOT_INJECTED[spec.kind];
  if (why) return done(`not injected: ${why}`, false);
  try {
    switch (spec.kind) {
      case 'kill-worker': {
        const role = roleOf(spec.worker);
        // The media worker is killed mid-encode when one starts within 15 s (its ffmpeg must not outlive it).
        let busy = await activeFfmpeg(soak.dataDir);
        for (const until = Date.now() + 15_000; role === 'media' && busy.length === 0 && Date.now() < until;) {
          await sleep(250);
          busy = await activeFfmpeg(soak.dataDir);
        }
        await serial(role, () => restart(ctx, role, 'SIGKILL'));
        rec.recoverySec = ctx.now() - startSec;
        return done(`${role} worker killed -9 and restarted${role === 'media' ? ` (${busy.length} ffmpeg running)` : ''}`);
      }
      case 'rolling-restart': {
        for (const role of ROLES) await serial(role, () => restart(ctx, role, 'SIGTERM'));
        rec.recoverySec = ctx.now() - startSec;
        return done('every worker kind SIGTERMed and replaced, one after the other');
      }
      case 'stop-ffmpeg': {
        // Waits (up to the fault's length) for an encode to hit: a stop with nothing running proves nothing.
        let pids = await activeFfmpeg(soak.dataDir);
        const until = Date.now() + spec.forSec * 1000;
        while (pids.length === 0 && Date.now() < until) {
          await sleep(250);
          pids = await activeFfmpeg(soak.dataDir);
        }
        if (pids.length === 0) return done(`no ffmpeg of the stack ran within ${spec.forSec} s: nothing stopped`);
        for (const pid of pids) if (signal(pid, 'SIGSTOP')) ctx.stopped.add(pid);
        await sleep(spec.forSec * 1000);
        for (const pid of pids) {
          signal(pid, 'SIGCONT');
          ctx.stopped.delete(pid);
        }
        return done(`${pids.length} ffmpeg SIGSTOPped for ${spec.forSec} s, then SIGCONTed`);
      }
      case 'cut-worker-network': {
        const host = soak.workerHost;
        if (!host.role) return done(`not injected: ${host.problem ?? 'no lab host'}`, false);
        const role = host.role;
        // Only one kind runs in a lab host: a cut the schedule aims at another kind hits it (said in the note).
        const aimed =
          roleOf(spec.worker) === role
            ? ''
            : ` (the schedule named the ${roleOf(spec.worker)} worker; only the ${role} worker has a host of its own)`;
        // Like kill-worker: land mid-encode when one starts within 15 s.
        let busy = await activeFfmpeg(soak.dataDir);
        for (const until = Date.now() + 15_000; busy.length === 0 && Date.now() < until;) {
          await sleep(250);
          busy = await activeFfmpeg(soak.dataDir);
        }
        rec.startSec = ctx.now();
        host.cut();
        try {
          await sleep(spec.forSec * 1000);
        } finally {
          host.heal();
        }
        const healedAt = Date.now();
        // Recovery: the worker process of that kind (a replacement if kill-worker struck meanwhile) polls its queue again.
        const pid = soak.worker(role).procs.get(role)?.pid;
        const back = pid === undefined ? undefined : await waitForPoll(soak.client, soak.stack.queues[role], pid, healedAt, 120_000);
        if (back !== undefined) rec.recoverySec = Math.max(0, back - healedAt) / 1000;
        return done(
          `the ${role} worker's host cut off for ${spec.forSec} s with ${busy.length} ffmpeg running, then healed; ` +
            (back === undefined
              ? 'it was not seen polling within 120 s of the heal'
              : `polling again ${((back - healedAt) / 1000).toFixed(1)} s after the heal`) +
            aimed,
        );
      }
      case 'kill-temporal': {
        await soak.temporal.kill();
        await soak.temporal.restart();
        rec.recoverySec = ctx.now() - startSec;
        return done('dev server killed -9 (its process group) and restarted on its database file');
      }
      case 'scratch-disk-full': {
        if (soak.scratchDisk.problem) return done(`not injected: ${soak.scratchDisk.problem}`, false);
        const bytes = await soak.scratchDisk.fill();
        await sleep(spec.forSec * 1000);
        await soak.scratchDisk.free();
        return done(`the workers' scratch disk full (${Math.round(bytes / 2 ** 20)} MiB taken) for ${spec.forSec} s`);
      }
      case 'restart-postgres': {
        await soak.postgres.stop();
        await sleep(spec.forSec * 1000);
        await soak.postgres.start();
        rec.recoverySec = ctx.now() - startSec - spec.forSec;
        return done(`the run's PostgreSQL server stopped for ${spec.forSec} s, then started`);
      }
      case 'restart-minio': {
        const { minio } = soak.objects;
        if (!minio) return done(`not injected: ${soak.objects.problem}`, false);
        await minio.kill();
        await sleep(spec.forSec * 1000);
        await minio.start();
        rec.recoverySec = ctx.now() - startSec - spec.forSec;
        return done(`the run's MinIO killed -9, down for ${spec.forSec} s, then started on its data dir and port`);
      }
      case 'ai-no-transcription': {
        soak.fault.setRouteMissing('/v1/audio/transcriptions', 404);
        await sleep(spec.forSec * 1000);
        soak.fault.setRouteMissing('/v1/audio/transcriptions', null);
        return done('the provider lacked /v1/audio/transcriptions (404)');
      }
      case 'vector-store-failure': {
        await soak.setVectorFault(true);
        await sleep(spec.forSec * 1000);
        await soak.setVectorFault(false);
        return done('every vector store call failed');
      }
      case 'operator-delete': {
        const id = spec.uploadId;
        if (!id || !(await ctx.submitted(id))) return done('its upload was never submitted');
        rec.startSec = ctx.now();
        ctx.markDeleted(id);
        const res = await soak.api.app.inject({ method: 'DELETE', url: `/videos/${id}` });
        return done(`DELETE ${id} → ${res.statusCode}`);
      }
      case 'operator-replay': {
        const id = spec.uploadId;
        if (!id || !(await ctx.submitted(id))) return done('its upload was never submitted');
        rec.startSec = ctx.now();
        const list = await soak.api.app.inject({ method: 'GET', url: '/dead-letters?state=open&limit=200' });
        const items = ((list.json() as { items?: { id: string; videoId: string }[] }).items ?? []).filter((x) => x.videoId === id);
        if (items.length === 0) return done(`${id} had no open dead letter: nothing to replay`);
        const res = await soak.api.app.inject({ method: 'POST', url: `/dead-letters/${items[0]!.id}/replay` });
        return done(`replayed ${id}'s dead letter → ${res.statusCode}`);
      }
      default: {
        const step = AI_STEPS[spec.kind];
        if (!step) return done(`no injector for ${spec.kind}`, false);
        const from = Date.now();
        soak.fault.addWindow({ from, to: from + spec.forSec * 1000, step });
        await sleep(spec.forSec * 1000);
        return done(`every AI request answered ${step.kind === 'status' ? step.status : step.kind} for ${spec.forSec} s`);
      }
    }
  } catch (err) {
    return done(`failed to inject: ${(err as Error).message.split('\n')[0]}`, false);
  }
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** ffmpeg processes working on the stack's files (other sessions' ffmpeg never name our data dir). */
export async function activeFfmpeg(dataDir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name)) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const argv = cmd.split('\0');
    if (/(^|\/)ffmpeg$/.test(argv[0] ?? '') && cmd.includes(dataDir)) pids.push(Number(name));
  }
  return pids;
}
