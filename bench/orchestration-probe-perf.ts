// Reads the dev server's perf recording of bench/orchestration-probe.ts (PROBE_PERF=1) and says,
// per window, where its CPU went: the gRPC method a sample serves (the outermost generated
// `_<Service>Service_<Method>_Handler` frame), the /metrics page, or the background loop it runs in.
// Run: `npx tsx bench/orchestration-probe-perf.ts [dir]` (dir = PROBE_OUT of the probe).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What one sample's stack (leaf first, as `perf script` prints it) was doing. */
export function categorise(frames: string[]): string {
  const rootFirst = [...frames].reverse();
  for (const f of rootFirst) {
    const m = /_(\w+)Service_(\w+)_Handler/.exec(f);
    if (m) return `rpc ${m[1]}.${m[2]}`;
  }
  if (frames.some((f) => f.includes('promhttp'))) return 'GET /metrics (the probe scraping)';
  if (frames.some((f) => f.includes('tally/v4') && f.includes('report'))) return 'metrics report loop (tally)';
  if (frames.some((f) => /runtime\.(gcBgMarkWorker|bgsweep|bgscavenge)/.test(f))) return 'Go GC';
  if (frames.some((f) => f.startsWith('runtime.sysmon'))) return 'Go sysmon';
  if (frames.some((f) => /google\.golang\.org\/grpc/.test(f))) return 'gRPC transport (no handler frame)';
  if (frames.some((f) => /service\/history\/queues/.test(f))) return 'history task queues (transfer/timer/visibility)';
  if (frames.some((f) => /service\/matching\./.test(f))) return 'matching background (task readers/writers)';
  if (frames.some((f) => /nsregistry|namespace\.\(\*registry\)/.test(f))) return 'namespace registry refresh';
  if (frames.some((f) => /runtime\.(schedule|findRunnable|mcall|park_m|stopm|morestack|newstack)/.test(f))) return 'Go scheduler / stacks';
  const root = rootFirst.find((f) => !f.startsWith('runtime.goexit'));
  return `other: ${root ?? '?'}`;
}

interface Window {
  name: string;
  seconds: number;
  serverMsPerS: number;
  from: number;
  to: number;
}

function main(dir: string): void {
  const windows = JSON.parse(readFileSync(path.join(dir, 'windows.json'), 'utf8')) as Window[];
  const text = execFileSync('perf', ['script', '-i', path.join(dir, 'probe.data'), '-F', 'time,ip,sym'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const samples: { t: number; cat: string }[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    const t = Number(/([\d.]+):/.exec(lines[0]!)?.[1]);
    const frames = lines.slice(1).map((l) => l.trim().split(/\s+/).slice(1).join(' '));
    samples.push({ t, cat: categorise(frames) });
  }
  const hz = 999;
  for (const w of windows) {
    const inside = samples.filter((s) => s.t >= w.from && s.t < w.to);
    const counts = new Map<string, number>();
    for (const s of inside) counts.set(s.cat, (counts.get(s.cat) ?? 0) + 1);
    const msPerS = (n: number) => (n * 1000) / hz / w.seconds;
    console.log(
      `\n${w.name}: ${w.seconds.toFixed(1)} s; /proc ${w.serverMsPerS.toFixed(1)} ms/s; perf ${inside.length} samples = ${msPerS(inside.length).toFixed(1)} ms/s`,
    );
    for (const [cat, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 18))
      console.log(`  ${msPerS(n).toFixed(2).padStart(6)} ms/s ${((n * 1000) / hz).toFixed(0).padStart(5)} ms  ${cat}`);
    if (w.name.startsWith('upload-')) {
      // Where in the upload the server worked: samples per second since the POST.
      const perSecond = Array.from({ length: Math.ceil(w.to - w.from) }, () => 0);
      for (const s of inside) perSecond[Math.floor(s.t - w.from)]! += 1;
      console.log(`  ms per second of the upload: ${perSecond.map((n) => ((n * 1000) / hz).toFixed(0)).join(' ')}`);
    }
  }
}

if (require.main === module) main(process.argv[2] ?? path.join(os.tmpdir(), 'biblio-orch-probe'));
