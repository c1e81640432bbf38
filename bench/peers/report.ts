// The peers section of docs/benchmarks.md: rendered from one run's numbers, written between
// markers so the top-level `npm run bench` can call writePeersSection with its own run.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { endMarker, replaceSection, startMarker } from '../all/sections';
import { ROOT } from './children';
import type { PeersReport, Row } from './runner';

export const START = startMarker('peers');
export const END = endMarker('peers');
export const BENCHMARKS_MD = path.join(ROOT, 'docs', 'benchmarks.md');

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '—');
const f0 = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : '—');

function roleCell(row: Row, name: string): string {
  const parts = row.roles.filter((r) => r.name === name || r.name.startsWith(`${name} (`));
  if (parts.length === 0) return '—';
  if (parts.length === 1) return f1(parts[0]!.msPerWorkflow);
  const sum = parts.reduce((a, r) => a + r.msPerWorkflow, 0);
  return `${f1(sum)} (${parts.map((r) => `${f1(r.msPerWorkflow)}${r.name.includes('shared') ? ' shared' : ''}`).join(' + ')})`;
}

function table(report: PeersReport, scenarioId: string): string {
  const s = report.scenarios.find((x) => x.id === scenarioId)!;
  const rows = report.rows.filter((r) => r.scenario === scenarioId);
  const cpuStep = s.stepCpuMs > 0;
  const head =
    `| engine | workflows/s | p50 ms | p99 ms | CPU ms / workflow | server | worker | client |${cpuStep ? ' the step (its thread) | beyond the step |' : ''} rest of machine (not counted) |\n` +
    `|---|---|---|---|---|---|---|---|${cpuStep ? '---|---|' : ''}---|`;
  const lines = rows.map((r) => {
    if (r.error) return `| ${r.label} | ${r.error.replace(/\|/g, '\\|')} |||||||${cpuStep ? '||' : ''}|`;
    const failed = r.failures ? ` (${r.failures} failed: ${(r.firstFailure ?? '').replace(/\|/g, '\\|').slice(0, 80)})` : '';
    return (
      `| ${r.label}${failed} | ${f1(r.perSecond)} | ${f0(r.p50)} | ${f0(r.p99)} | **${f1(r.totalMsPerWorkflow)}** | ${roleCell(r, 'server')} | ` +
      `${roleCell(r, 'worker')} | ${roleCell(r, 'client')} |${cpuStep ? ` ${f1(r.stepMsPerWorkflow)} | ${f1(r.totalMsPerWorkflow - r.stepMsPerWorkflow)} |` : ''} ${f1(r.restOfMachineMsPerWorkflow)} (load ${r.loadAvg.toFixed(1)}) |`
    );
  });
  return `**${s.title}** — ${s.count} workflows, ${s.concurrency} in flight, after ${s.warmup} unmeasured warm-up runs:\n\n${head}\n${lines.join('\n')}`;
}

const ok = (r: Row | undefined): r is Row => !!r && !r.error && r.completed > 0;

/** The paragraph that compares: every figure in it comes from the rows above. */
function comparison(report: PeersReport): string {
  const get = (engine: string, scenario: string, label?: string) =>
    report.rows.find((r) => r.engine === engine && r.scenario === scenario && (!label || r.label.includes(label)));
  const temporal = get('temporal', 'trivial', '(activities)');
  const local = get('temporal', 'trivial', 'local');
  const peers = report.rows.filter((r) => r.scenario === 'trivial' && r.engine !== 'temporal' && ok(r));
  if (!ok(temporal) || peers.length === 0) return '_Not enough engines completed the trivial scenario to compare._';
  const cheapest = peers.reduce((a, b) => (a.totalMsPerWorkflow <= b.totalMsPerWorkflow ? a : b));
  const dearest = peers.reduce((a, b) => (a.totalMsPerWorkflow >= b.totalMsPerWorkflow ? a : b));
  const ratio = (a: Row, b: Row) => (a.totalMsPerWorkflow / b.totalMsPerWorkflow).toFixed(1);
  const server = (r: Row) => r.roles.filter((x) => x.name.startsWith('server')).reduce((a, x) => a + x.msPerWorkflow, 0);
  const worker = (r: Row) => r.roles.filter((x) => x.name === 'worker').reduce((a, x) => a + x.msPerWorkflow, 0);
  const parts: string[] = [];
  parts.push(
    `**Where Temporal costs more.** On the trivial pipeline the Temporal dev server with regular activities spends ` +
      `${f1(temporal.totalMsPerWorkflow)} ms of machine CPU per workflow (server ${f1(server(temporal))}, worker ${f1(worker(temporal))}) — ` +
      `${ratio(temporal, cheapest)}× ${cheapest.label} (${f1(cheapest.totalMsPerWorkflow)} ms) and ${ratio(temporal, dearest)}× ${dearest.label} ` +
      `(${f1(dearest.totalMsPerWorkflow)} ms) — and runs ${f1(temporal.perSecond)} workflows/s against ${f1(Math.min(...peers.map((p) => p.perSecond)))}–` +
      `${f1(Math.max(...peers.map((p) => p.perSecond)))} for the others on the same 2 cores (p50 ${f0(temporal.p50)} ms against ` +
      `${f0(Math.min(...peers.map((p) => p.p50)))}–${f0(Math.max(...peers.map((p) => p.p50)))} ms).` +
      (ok(local)
        ? ` Local activities (steps run inside the workflow task) bring it to ${f1(local.totalMsPerWorkflow)} ms and ${f1(local.perSecond)}/s, ` +
          `${ratio(local, cheapest)}× ${cheapest.label}.`
        : ''),
  );
  const tc = get('temporal', 'cpu');
  const cpuPeers = report.rows.filter((r) => r.scenario === 'cpu' && r.engine !== 'temporal' && ok(r));
  if (ok(tc) && cpuPeers.length) {
    const beyond = (r: Row) => r.totalMsPerWorkflow - r.stepMsPerWorkflow;
    const lo = Math.min(...cpuPeers.map(beyond));
    const hi = Math.max(...cpuPeers.map(beyond));
    const busy = (r: Row) => r.restOfMachineMsPerWorkflow > 0.25 * r.totalMsPerWorkflow;
    parts.push(
      `With a 2-s CPU step the orchestration is a small share: beyond the step Temporal spends ${f1(beyond(tc))} ms per workflow against ` +
        `${f1(lo)}–${f1(hi)} ms for the others, ${((beyond(tc) / tc.totalMsPerWorkflow) * 100).toFixed(1)} % of its workflow's CPU. ` +
        `Throughput was ${f1(tc.perSecond * 60)} workflows/min against ${f1(Math.min(...cpuPeers.map((r) => r.perSecond * 60)))}–` +
        `${f1(Math.max(...cpuPeers.map((r) => r.perSecond * 60)))} (2 steps in flight on 2 cores bound all of them)` +
        (busy(tc)
          ? `; other sessions used ${f0(tc.restOfMachineMsPerWorkflow)} ms of CPU per workflow during Temporal's window, so its ` +
            `throughput and latency there say more about the machine than about Temporal.`
          : '.') +
        ` Biblio's steps are of this kind (ffmpeg runs for seconds to minutes per activity).`,
    );
  }
  const events = temporal.detail ? ` (measured in this run: ${temporal.detail})` : '';
  parts.push(
    `**Why.** Temporal is event-sourced: every state change of a workflow is appended to its history${events}, and every ` +
      `activity is a task the history service hands to the matching service, which a worker long-polls for over gRPC; each ` +
      `completion is another gRPC call and a new workflow task, and the dev server keeps history, mutable state, task queues and ` +
      `visibility in one SQLite file through a single writer. Restate streams the invocation's journal to the endpoint over one ` +
      `HTTP/2 request and appends entries to its local log; DBOS writes one PostgreSQL row per step from inside the application ` +
      `process, with no server of its own; BullMQ moves each job between Redis lists with a Lua script.`,
  );
  parts.push(
    `**What it buys.** The full, replayable history of every run (Biblio's replay tests in \`test/replay\` run recorded histories ` +
      `against new workflow code), the Web UI over those histories (in the same dev-server process measured here), reset of a ` +
      `workflow to an earlier point, signals/queries/updates, durable timers, task-queue routing to separate worker pools, and ` +
      `workers in several languages on one cluster. The others cover part of this: Restate keeps a journal per invocation (1 day ` +
      `by default), has its own UI and SDKs in several languages; DBOS keeps step checkpoints in PostgreSQL tables you can query; ` +
      `BullMQ keeps job records and return values but no history of a pipeline as a whole, and with \`everysec\` it can lose up to ` +
      `a second of acknowledged work on power loss.`,
  );
  return parts.join('\n\n');
}

export function renderPeersMarkdown(report: PeersReport): string {
  const engines = report.engines
    .map((e) => {
      const rows = report.rows.filter((r) => r.engine === e.id && r.roles.length);
      const procs = rows[0]?.roles.map((r) => `${r.name}: ${r.what}`).join('; ') ?? '—';
      return `| ${e.id} | ${e.versions} | ${e.durability || '—'} | ${procs} |`;
    })
    .join('\n');
  return [
    `\`npm run bench:peers${report.quick ? ' -- --quick' : ''}\` (${report.date}; ${report.cores} cores shared with other sessions, Node ${report.node}; ` +
      `whole run ${f0(report.wallS)} s wall, engine start-ups included${report.quick ? '; **quick run**: CI-sized counts, noisy' : ''}). ` +
      `Every engine runs the same pipeline — three steps, each taking the previous one's output — with the engine's own ` +
      `durability for each step, its server(s), a worker process and a load client in separate processes on loopback, one engine ` +
      `at a time. The CPU-bound step is ${report.stepIterations.toLocaleString('en')} iterations of an integer loop, calibrated in the ` +
      `run to ${f0(report.stepMeasuredMs)} ms of CPU and the same for every engine; it runs on a worker thread (a pool of 2) so the ` +
      `engine's event loop stays free, as Biblio hands ffmpeg to a child process. The thread measures each step's CPU itself ` +
      `(\`/proc/thread-self/stat\`): "the step" column; "beyond the step" is the rest, the price of orchestrating it.`,
    '',
    `CPU = \`utime + stime + cutime + cstime\` from \`/proc/<pid>/stat\` of each process and all its descendants (threads and ` +
      `reaped children included), before the first measured workflow and ${report.settleMs / 1000} s after the last one, divided ` +
      `by the workflows that completed; nothing is subtracted. Latency is the client's, from start request to result. ` +
      `"Rest of machine" is the non-idle CPU of \`/proc/stat\` minus the engine's processes, i.e. what other sessions ran ` +
      `meanwhile — a gauge of how noisy the window was, not part of any total. In the CPU-bound scenario each workflow ` +
      `lasts seconds, so a server's background work over that time (timers, gossip, flushes) is part of its figure.`,
    '',
    table(report, 'trivial'),
    '',
    table(report, 'cpu'),
    '',
    '| engine | versions | durability | processes measured |',
    '|---|---|---|---|',
    engines,
    '',
    comparison(report),
  ].join('\n');
}

/** Replaces what is between the peers markers in docs/benchmarks.md (adds a Peers section when absent). */
export async function writePeersSection(markdown: string, file = BENCHMARKS_MD): Promise<void> {
  await writeFile(file, replaceSection(await readFile(file, 'utf8'), 'peers', markdown, 'Peers'));
}
