import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { INVARIANTS } from '../../bench/soak/invariants';
import { parseOptions, type SoakOptions } from '../../bench/soak/options';
import { runSoak } from '../../bench/soak/run';
import type { SoakPlan } from '../../bench/soak/schedule';

// The soak's checker against a deliberately broken build (BIBLIO_TEST_BROKEN_BUILD=
// keep-points-of-deleted: the deletion saga leaves the vector point). A tiny fixed plan: a
// 2-second clip that is indexed long before the simulated operator deletes it, and a second one
// that stays. The same plan on the real build is the control: the failure is the defect's.
const plan: SoakPlan = {
  seed: 0,
  durationSec: 45,
  uploads: [
    { id: 'soak-broken-0000', atSec: 0, source: 'file', media: { kind: 'valid', durationSec: 2, height: 720, shape: 'plain' } },
    { id: 'soak-broken-0001', atSec: 1, source: 'url', media: { kind: 'valid', durationSec: 2, height: 720, shape: 'no-audio' } },
  ],
  // 35 s: the clip is ready in about 10 s on two loaded cores; a delete before its point exists would prove nothing.
  faults: [{ kind: 'operator-delete', atSec: 35, forSec: 0, uploadId: 'soak-broken-0000' }],
};

let outDir: string;
beforeAll(async () => {
  outDir = await mkdtemp(path.join(os.tmpdir(), 'biblio-soak-broken-'));
});
afterAll(() => rm(outDir, { recursive: true, force: true }));

function options(brokenBuild: boolean): SoakOptions {
  const o = parseOptions(['--duration', String(plan.durationSec), '--cap', '200', '--out', path.join(outDir, String(brokenBuild))]);
  if (o === 'help') throw new Error('unexpected --help');
  return { ...o, brokenBuild };
}

test('the soak fails a build whose deletion keeps the vector point, naming the vector-points invariant and the video', async () => {
  const lines: string[] = [];
  const result = await runSoak(plan, options(true), (l) => lines.push(l));

  expect(result.ok).toBe(false);
  expect(result.violations.map((v) => [v.invariant, v.videoId])).toEqual([['vectorPoints', 'soak-broken-0000']]);
  expect(result.line).toBe(`soak seed 0: 1 violation(s); first: ${INVARIANTS.vectorPoints} (soak-broken-0000): 1 points, expected 0`);
  expect(await readFile(result.summaryFile, 'utf8')).toContain(`| ${INVARIANTS.vectorPoints} | 1 |`);
}, 260_000);

test('the same plan on the real build holds every invariant (the control)', async () => {
  const result = await runSoak(plan, options(false), () => undefined);
  expect(result.violations).toEqual([]);
  expect(result.ok).toBe(true);
}, 260_000);
