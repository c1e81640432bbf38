// Runs every engine through the scenarios and measures them. One engine at a time, each started
// fresh in a temp dir, each step under a watchdog; a failed or stuck engine becomes a row that
// says so and the run goes on with the next.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type Child, startNodeChild, stopChild, watchdog } from './children';
import type { ClientConfig, ClientResult } from './client';
import type { Engine, RunningEngine, Variant } from './engine';
import { calibrate } from './pipeline';
import { machineTicks, snapshot } from './proc';
import { summarize, treeTicks, USER_HZ } from './stats';

export interface Scenario {
  id: 'trivial' | 'cpu';
  title: string;
  count: number;
  concurrency: number;
  /** Nominal CPU of step 2 in ms (0: trivial). */
  stepCpuMs: number;
  warmup: number;
  timeoutMs: number;
}

export function scenarios(quick: boolean): Scenario[] {
  return [
    {
      id: 'trivial',
      title: 'Trivial 3-step pipeline',
      count: quick ? 100 : 1000,
      concurrency: 10,
      stepCpuMs: 0,
      warmup: quick ? 10 : 20,
      timeoutMs: quick ? 120_000 : 240_000,
    },
    {
      id: 'cpu',
      title: '3-step pipeline with a 2-s CPU-bound step',
      count: quick ? 6 : 50,
      concurrency: 2,
      stepCpuMs: 2000,
      warmup: 2,
      timeoutMs: quick ? 120_000 : 300_000,
    },
  ];
}

export interface RoleCpu {
  name: string;
  what: string;
  msPerWorkflow: number;
}

export interface Row {
  engine: string;
  label: string;
  scenario: Scenario['id'];
  completed: number;
  failures: number;
  firstFailure?: string;
  wallS: number;
  perSecond: number;
  p50: number;
  p99: number;
  roles: RoleCpu[];
  /** CPU of the pipeline's CPU step, measured by its thread (0 in the trivial scenario). */
  stepMsPerWorkflow: number;
  /** Sum of the roles (engine processes + client). */
  totalMsPerWorkflow: number;
  /** Everything else the machine ran in the window (other sessions), per workflow: a noise gauge, never subtracted. */
  restOfMachineMsPerWorkflow: number;
  loadAvg: number;
  detail?: string;
  error?: string;
}

export interface EngineInfo {
  id: string;
  versions: string;
  durability: string;
  startS: number;
  error?: string;
}

export interface PeersReport {
  date: string;
  quick: boolean;
  node: string;
  cores: number;
  stepIterations: number;
  stepMeasuredMs: number;
  settleMs: number;
  scenarios: Scenario[];
  engines: EngineInfo[];
  rows: Row[];
  wallS: number;
}

const SETTLE_MS = 1000;

/** Temp dirs of engines in flight, so a Ctrl-C of the bench can still remove them. */
export const tempDirs = new Set<string>();
const START_TIMEOUT_MS = 150_000;

const ms = (ticks: number) => (ticks * 1000) / USER_HZ;

async function measure(
  engine: Engine,
  running: RunningEngine,
  variant: Variant,
  scenario: Scenario,
  work: number,
  dir: string,
): Promise<Row> {
  const config: ClientConfig = {
    kind: engine.clientKind,
    engine: { ...running.client, ...variant.client },
    count: scenario.count,
    concurrency: scenario.concurrency,
    work,
    warmup: scenario.warmup,
    prefix: `${engine.id}-${scenario.id}-${Date.now()}`,
  };
  const client: Child = startNodeChild(`${engine.id}-client`, 'client.ts', [JSON.stringify(config)], {
    logFile: path.join(dir, `client-${scenario.id}-${variant.client.workflow ?? 'x'}.log`),
  });
  try {
    await client.waitForLine(/^READY/, 120_000);
    const before = await snapshot();
    const m0 = await machineTicks();
    const step0 = running.stepCpuMs();
    client.send('GO');
    const line = await client.waitForLine(/^RESULT /, scenario.timeoutMs);
    // Servers finish some work after the client has its answer (history/visibility tasks,
    // journal cleanup, AOF rewrite): give them a second inside the window.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const after = await snapshot();
    const m1 = await machineTicks();
    const step1 = running.stepCpuMs();
    const result = JSON.parse(line.slice('RESULT '.length)) as ClientResult;
    const done = result.latenciesMs.length;
    const per = (ticks: number) => ms(ticks) / Math.max(1, done);
    const roles: RoleCpu[] = [
      ...running.roles.map((r) => ({ name: r.name, what: r.what, msPerWorkflow: per(r.ticks(before, after)) })),
      { name: 'client', what: 'Node load client (its own process)', msPerWorkflow: per(treeTicks(client.pid, before, after)) },
    ];
    const total = roles.reduce((a, r) => a + r.msPerWorkflow, 0);
    const lat = summarize(result.latenciesMs);
    return {
      engine: engine.id,
      label: variant.label,
      scenario: scenario.id,
      completed: done,
      failures: result.failures,
      firstFailure: result.firstFailure,
      wallS: result.wallMs / 1000,
      perSecond: done / (result.wallMs / 1000),
      p50: lat.p50,
      p99: lat.p99,
      roles,
      stepMsPerWorkflow: (step1 - step0) / Math.max(1, done),
      totalMsPerWorkflow: total,
      restOfMachineMsPerWorkflow: per(m1 - m0) - total,
      loadAvg: os.loadavg()[0]!,
      detail: result.detail,
    };
  } finally {
    await stopChild(client);
  }
}

function failedRow(engine: Engine, variant: Variant, scenario: Scenario, error: string): Row {
  return {
    engine: engine.id,
    label: variant.label,
    scenario: scenario.id,
    completed: 0,
    failures: 0,
    wallS: NaN,
    perSecond: NaN,
    p50: NaN,
    p99: NaN,
    roles: [],
    stepMsPerWorkflow: NaN,
    totalMsPerWorkflow: NaN,
    restOfMachineMsPerWorkflow: NaN,
    loadAvg: os.loadavg()[0]!,
    error,
  };
}

export async function runEngines(engines: Engine[], quick: boolean, log: (line: string) => void): Promise<PeersReport> {
  const began = Date.now();
  const list = scenarios(quick);
  log('calibrating the CPU step (2 CPU-s)…');
  const cal = await calibrate(2000);
  log(`  ${cal.iterations} iterations = ${cal.measuredMs.toFixed(0)} ms CPU`);
  const report: PeersReport = {
    date: new Date().toISOString().slice(0, 10),
    quick,
    node: process.version,
    cores: os.cpus().length,
    stepIterations: cal.iterations,
    stepMeasuredMs: cal.measuredMs,
    settleMs: SETTLE_MS,
    scenarios: list,
    engines: [],
    rows: [],
    wallS: 0,
  };
  const cpuConcurrency = Math.max(...list.map((s) => (s.stepCpuMs > 0 ? s.concurrency : 1)));
  for (const engine of engines) {
    const dir = await mkdtemp(path.join(os.tmpdir(), `biblio-peers-${engine.id}-`));
    tempDirs.add(dir);
    const info: EngineInfo = { id: engine.id, versions: '?', durability: '', startS: NaN };
    report.engines.push(info);
    let running: RunningEngine | undefined;
    try {
      info.versions = await engine.versions();
      log(`${engine.id}: ${info.versions}`);
      const t0 = Date.now();
      running = await watchdog(`${engine.id} start`, START_TIMEOUT_MS, engine.start({ dir, cpuConcurrency }));
      info.startS = (Date.now() - t0) / 1000;
      info.durability = engine.durability; // read after start: some engines fill it in from the server
      for (const variant of engine.variants) {
        for (const scenario of list.filter((s) => !variant.scenarios || variant.scenarios.includes(s.id))) {
          try {
            const row = await watchdog(
              `${variant.label} / ${scenario.id}`,
              scenario.timeoutMs + 150_000,
              measure(engine, running, variant, scenario, scenario.stepCpuMs > 0 ? cal.iterations : 0, dir),
            );
            report.rows.push(row);
            log(
              `  ${variant.label} / ${scenario.id}: ${row.perSecond.toFixed(1)}/s p50 ${row.p50.toFixed(0)} p99 ${row.p99.toFixed(0)} ms, ` +
                `${row.totalMsPerWorkflow.toFixed(1)} ms CPU/wf (${row.roles.map((r) => `${r.name} ${r.msPerWorkflow.toFixed(1)}`).join(', ')})` +
                `${row.failures ? `, ${row.failures} FAILED: ${row.firstFailure}` : ''}, load ${row.loadAvg.toFixed(1)}`,
            );
          } catch (err) {
            const msg = err instanceof Error ? err.message : String(err);
            log(`  ${variant.label} / ${scenario.id}: ERROR ${msg}`);
            report.rows.push(failedRow(engine, variant, scenario, msg.split('\n')[0]!));
          }
        }
      }
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      info.error = msg.split('\n')[0];
      log(`${engine.id}: ERROR ${msg}`);
      for (const variant of engine.variants)
        for (const scenario of list.filter((s) => !variant.scenarios || variant.scenarios.includes(s.id)))
          report.rows.push(failedRow(engine, variant, scenario, `engine did not start: ${info.error}`));
    } finally {
      if (running) await running.stop().catch((err) => log(`${engine.id}: stop failed: ${String(err)}`));
      await rm(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    }
  }
  report.wallS = (Date.now() - began) / 1000;
  return report;
}
