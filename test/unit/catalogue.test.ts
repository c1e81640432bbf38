import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { AiActivities } from '../../src/activities/ai';
import type { IndexerActivities } from '../../src/activities/indexer';
import type { MediaActivities, MediaStepActivities } from '../../src/activities/media';
import type { AnalysisInputsActivities } from '../../src/activities/media/analysis-inputs';
import type { StoryboardActivities } from '../../src/activities/media/storyboard';
import type { HlsActivities } from '../../src/activities/media/hls';
import type { SegmentActivities } from '../../src/activities/media/segments';
import type { StorageActivities } from '../../src/activities/storage';
import {
  ACTIVITIES,
  QUEUE_ROLES,
  STEPS,
  WORKERS,
  activitiesOfStep,
  stepOfActivity,
  type ActivityName,
  type QueueRole,
} from '../../src/pipeline/catalogue';
import { LOCAL_PRESETS, maximumAttemptsOf, RETRY_PRESETS } from '../../src/pipeline/retry-presets';

const ROOT = path.resolve(__dirname, '..', '..');

// Compile-time half (tsc in `npm run check` and `npm test`): each worker's activity factories
// register exactly the activities the catalogue puts on its queue — no more, no fewer.
type Equal<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type OnQueue<R extends QueueRole> = { [K in ActivityName]: (typeof ACTIVITIES)[K]['queue'] extends R ? K : never }[ActivityName];
const queuesAgree: {
  pipeline: Equal<keyof StorageActivities, OnQueue<'pipeline'>>;
  media: Equal<
    keyof (MediaStepActivities & MediaActivities & SegmentActivities & AnalysisInputsActivities & HlsActivities & StoryboardActivities),
    OnQueue<'media'>
  >;
  ai: Equal<keyof AiActivities, OnQueue<'ai'>>;
  index: Equal<keyof IndexerActivities, OnQueue<'index'>>;
} = { pipeline: true, media: true, ai: true, index: true };

test('every activity factory registers exactly the activities the catalogue puts on its queue (checked by tsc)', () => {
  expect(queuesAgree).toEqual({ pipeline: true, media: true, ai: true, index: true });
});

test('every step has activities that know their step (a replay resets to the first of them)', () => {
  for (const step of STEPS) {
    const acts = activitiesOfStep(step);
    expect(acts.length).toBeGreaterThan(0);
    for (const a of acts) expect(stepOfActivity(a)).toBe(step);
  }
  expect(stepOfActivity('recordFailure')).toBeUndefined();
  expect(stepOfActivity('noSuchActivity')).toBeUndefined();
});

test('every activity names a preset that exists, local ones a local preset, and every budget is bounded', () => {
  for (const [name, spec] of Object.entries(ACTIVITIES)) {
    const local = 'local' in spec;
    expect([name, spec.retry in (local ? LOCAL_PRESETS : RETRY_PRESETS)]).toEqual([name, true]);
    expect(Number.isFinite(maximumAttemptsOf(spec.retry))).toBe(true);
  }
});

test('activities a workflow proxies with one options object share one preset (deleteVideo, reconcileIndex)', () => {
  const presetsOf = (names: ActivityName[]) => new Set(names.map((n) => ACTIVITIES[n].retry));
  expect(presetsOf(['tombstoneVideo', 'cancelVideoRun', 'removeVideoFiles', 'removeVideoPoints', 'purgeVideoRow'])).toEqual(
    new Set(['cleanupPersistent']),
  );
  expect(
    presetsOf([
      'reconcileRows',
      'listVectorSpaces',
      'reconcilePoints',
      'enforceRetention',
      'maintainVectorIndexes',
      'publishReconcileReport',
    ]),
  ).toEqual(new Set(['reconcilePage']));
});

test('package.json starts each worker by its catalogued entry, and has no other worker script', () => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const role of QUEUE_ROLES) expect(scripts[WORKERS[role].npmScript]).toBe(`node dist/${WORKERS[role].entry}`);
  expect(
    Object.keys(scripts)
      .filter((s) => s.startsWith('start:worker:'))
      .sort(),
  ).toEqual(QUEUE_ROLES.map((r) => WORKERS[r].npmScript).sort());
  for (const role of QUEUE_ROLES) expect(existsSync(path.join(ROOT, 'src', WORKERS[role].entry.replace(/\.js$/, '.ts')))).toBe(true);
});

test('docker-compose.yml runs one service per catalogued worker with its entry, and no other worker service', () => {
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[] }>;
  };
  for (const role of QUEUE_ROLES) {
    expect(compose.services[WORKERS[role].composeService]?.command).toEqual(['node', `dist/${WORKERS[role].entry}`]);
  }
  const workerServices = Object.entries(compose.services)
    .filter(([, s]) => s.command?.some((arg) => arg.startsWith('dist/workers/')))
    .map(([name]) => name)
    .sort();
  expect(workerServices).toEqual(QUEUE_ROLES.map((r) => WORKERS[r].composeService).sort());
});

/** Every source file of the project a second list could hide in. */
function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures' || name.startsWith('.')) continue;
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) sourceFiles(file, out);
    else if (/\.(ts|js|sh)$/.test(name)) out.push(file);
  }
  return out;
}

test('the catalogue is the only list: no other source file spells out the steps, the worker entries or the step activities', () => {
  const catalogue = path.join(ROOT, 'src', 'pipeline', 'catalogue.ts');
  const patterns: [string, RegExp][] = [
    ['the step list', /['"]transcode['"]\s*,\s*['"]analyze['"]\s*,\s*['"]index['"]/],
    ['a step → queue map', /transcode:\s*['"]media['"]\s*,\s*analyze:\s*['"]ai['"]/],
    ['a worker entry', /['"`](?:dist\/)?workers\/(?:pipeline|media|ai|indexer)\.js['"`]/],
    ['a step activity list', /['"]transcode['"]\s*,\s*['"](?:planTranscode|joinSegments|packageHls)['"]/],
  ];
  const found: string[] = [];
  for (const dir of ['src', 'test', 'bench', 'scripts', 'public']) {
    for (const file of sourceFiles(path.join(ROOT, dir))) {
      if (file === catalogue || file === __filename) continue;
      const text = readFileSync(file, 'utf8');
      for (const [what, re] of patterns) if (re.test(text)) found.push(`${path.relative(ROOT, file)}: ${what}`);
    }
  }
  expect(found).toEqual([]);
});
