import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DASHBOARD_DIR } from '../../src/api/routes/dashboard';
import { MIGRATIONS_DIR } from '../../src/db/database';
import { WORKFLOW_BUNDLE_PATH } from '../../src/temporal/workflow-bundle';

// The image runs the compiled code from its app root, and the code finds its files relative to
// that root. The image once shipped without public/, so GET /dashboard/ answered 500 in a container
// while every test, run from the repository, passed. This test reads the Dockerfile's runtime
// stage and asks of each path the processes read whether a COPY puts it there.
const ROOT = path.resolve(__dirname, '..', '..');

interface RuntimeStage {
  workdir: string;
  /** What the stage's COPY lines put into the image, relative to the app root (files or directories). */
  copied: { path: string; fromContext: string[] }[];
  command: string[];
}

function instructions(dockerfile: string): { op: string; args: string }[] {
  return dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

function runtimeStage(dockerfile: string): RuntimeStage {
  const all = instructions(dockerfile);
  const lastFrom = all.map((i) => i.op).lastIndexOf('FROM');
  const stage: RuntimeStage = { workdir: '/', copied: [], command: [] };
  for (const { op, args } of all.slice(lastFrom + 1)) {
    if (op === 'WORKDIR') stage.workdir = path.posix.resolve(stage.workdir, args);
    if (op === 'CMD') stage.command = JSON.parse(args) as string[];
    if (op !== 'COPY') continue;
    const words = args.split(/\s+/);
    const fromStage = words.some((w) => w.startsWith('--from='));
    const [dest = '', ...sources] = words.filter((w) => !w.startsWith('--')).reverse();
    const intoDir = dest.endsWith('/') || dest === '.' || sources.length > 1;
    for (const source of sources) {
      const target = path.posix.resolve(stage.workdir, intoDir ? path.posix.join(dest, path.posix.basename(source)) : dest);
      stage.copied.push({ path: target, fromContext: fromStage ? [] : [source] });
    }
  }
  stage.copied = stage.copied.map((c) => ({ ...c, path: path.posix.relative(stage.workdir, c.path) }));
  return stage;
}

/** Where a path the code computes from its own location lies in the image: dist/ mirrors src/. */
function inImage(absolute: string): string {
  // A package resolves to its real path, which a node_modules symlink may place outside ROOT.
  const inPackages = absolute.split(path.sep).indexOf('node_modules');
  if (inPackages >= 0) return absolute.split(path.sep).slice(inPackages).join('/');
  const relative = path.relative(ROOT, absolute).split(path.sep).join('/');
  return relative.replace(/^src\//, 'dist/');
}

const stage = runtimeStage(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const covers = (needed: string): boolean => stage.copied.some((c) => needed === c.path || needed.startsWith(`${c.path}/`));

test('the runtime stage runs from an app root and starts the compiled API', () => {
  expect(stage.workdir).toBe('/app');
  expect(stage.command).toEqual(['node', 'dist/api/main.js']);
});

test.each([
  ['the API entry the image starts', () => 'dist/api/main.js'],
  ['the migrations every process applies at start', () => inImage(MIGRATIONS_DIR)],
  ["the dashboard's plain files", () => inImage(DASHBOARD_DIR)],
  ['the prebuilt workflow bundle the pipeline worker loads', () => inImage(WORKFLOW_BUNDLE_PATH)],
  ['the HLS player the dashboard serves from node_modules', () => inImage(require.resolve('hls.js/dist/hls.min.js'))],
])('the image holds %s', (_what, needed) => {
  const file = needed();
  expect({ file, copied: covers(file) }).toEqual({ file, copied: true });
});

test('what the runtime stage copies from the build context exists and is not in .dockerignore', () => {
  const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const source of stage.copied.flatMap((c) => c.fromContext)) {
    expect({
      source,
      exists: existsSync(path.join(ROOT, source)),
      ignoredBy: ignored.filter((i) => source === i || source.startsWith(`${i}/`)),
    }).toEqual({
      source,
      exists: true,
      ignoredBy: [],
    });
  }
});

test('hls.js survives the build stage’s `npm prune --omit=dev`: it is a runtime dependency', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  expect(Object.keys(pkg.dependencies)).toContain('hls.js');
});
