// The peers benchmark: the same 3-step pipeline on Temporal (the dev server as Biblio runs it),
// Restate, DBOS Transact and BullMQ (fsync always / everysec), measured the same way.
//   npm run bench:peers                     full run (~6–8 min on 2 cores), writes docs/benchmarks.md#peers
//   npm run bench:peers -- --quick          CI-sized counts; prints, writes only with --write
//   npm run bench:peers -- --only=restate,dbos   some engines (development); prints only
//   --no-write                              print the section instead of writing it
// Measures CPU, so run it alone: `flock /tmp/biblio-heavy.lock npm run bench:peers` on a shared machine.
// The top-level bench calls runPeers + renderPeersMarkdown + writePeersSection itself.
import { rmSync } from 'node:fs';
import { killAllSync, stopAll } from './peers/children';
import type { Engine } from './peers/engine';
import { bullmqAlways, bullmqEverysec } from './peers/engines/bullmq';
import { dbos } from './peers/engines/dbos';
import { restate } from './peers/engines/restate';
import { temporal } from './peers/engines/temporal';
import { renderPeersMarkdown, writePeersSection } from './peers/report';
import { type PeersReport, runEngines, tempDirs } from './peers/runner';

export { renderPeersMarkdown, writePeersSection };
export type { PeersReport };

export const ENGINES: Engine[] = [temporal, restate, dbos, bullmqAlways, bullmqEverysec];

export async function runPeers(opts: { quick?: boolean; only?: string[]; log?: (line: string) => void } = {}): Promise<PeersReport> {
  const engines = opts.only ? ENGINES.filter((e) => opts.only!.some((o) => e.id.startsWith(o))) : ENGINES;
  if (engines.length === 0) throw new Error(`no engine matches ${opts.only?.join(',')} (engines: ${ENGINES.map((e) => e.id).join(', ')})`);
  try {
    return await runEngines(engines, opts.quick ?? false, opts.log ?? ((l) => console.log(l)));
  } finally {
    await stopAll(); // anything a watchdog left behind
  }
}

async function main() {
  const args = process.argv.slice(2);
  const known = /^--(quick|write|no-write|only=.+)$/;
  const bad = args.find((a) => !known.test(a));
  if (bad) {
    console.error(`unknown option ${bad}; usage: bench/peers.ts [--quick] [--only=engine,…] [--write | --no-write]`);
    process.exit(2);
  }
  const quick = args.includes('--quick');
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  // A quick or partial run never overwrites the full run's numbers unless asked to.
  const write = args.includes('--write') || (!quick && !only && !args.includes('--no-write'));
  const report = await runPeers({ quick, only });
  const markdown = renderPeersMarkdown(report);
  if (write) {
    await writePeersSection(markdown);
    console.log(`\nwrote the peers section of docs/benchmarks.md (run took ${report.wallS.toFixed(0)} s)`);
  } else {
    console.log(`\n${markdown}\n\n(not written; run took ${report.wallS.toFixed(0)} s)`);
  }
  if (report.rows.some((r) => r.error || r.failures)) process.exitCode = 1;
}

if (require.main === module) {
  process.on('exit', () => {
    killAllSync();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.on(sig, () => {
      void stopAll().finally(() => process.exit(130));
    });
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
