import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

// The README and docs/ are what a newcomer reads first: a link that leads nowhere, a path that no
// longer exists or a README that grew back into a manual is a defect, caught here rather than by
// the next reader.

const ROOT = path.resolve(__dirname, '..', '..');
const README_MAX_LINES = 200;

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return markdownFiles(full);
    return name.endsWith('.md') ? [full] : [];
  });
}

const DOCS = [path.join(ROOT, 'README.md'), ...markdownFiles(path.join(ROOT, 'docs'))];
const rel = (file: string) => path.relative(ROOT, file);

/** The text outside fenced code blocks: a link or path shown as code is an example, not a claim. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** Link and image targets of one Markdown file: `[x](t)`, `![x](t)`, `[x]: t`, `src="t"`, `href="t"`. */
export function linkTargets(markdown: string): string[] {
  const text = prose(markdown).replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(m[1]!);
  for (const m of text.matchAll(/\b(?:src|href)\s*=\s*"([^"]+)"/g)) targets.push(m[1]!);
  return targets;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** What is wrong with one link target of `file`, or undefined when it resolves inside the repository. */
export function linkProblem(file: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: … — not a file of ours
  if (target.startsWith('/')) return 'an absolute path: link relative to the file instead';
  const [pathPart = '', fragment] = target.split('#', 2);
  const resolved = pathPart ? path.resolve(path.dirname(file), decodeURIComponent(pathPart)) : file;
  const inRepo = path.relative(ROOT, resolved);
  if (inRepo.startsWith('..') || path.isAbsolute(inRepo)) return 'points outside the repository';
  if (!existsSync(resolved)) return `${inRepo} does not exist`;
  if (fragment && resolved.endsWith('.md') && !headingAnchors(readFileSync(resolved, 'utf8')).has(fragment)) {
    return `${inRepo} has no heading #${fragment}`;
  }
  return undefined;
}

/** Repository paths written as code in prose (`src/…`, `test/…`, …), minus patterns and placeholders. */
export function repositoryPaths(markdown: string): string[] {
  const paths: string[] = [];
  for (const m of prose(markdown).matchAll(/`((?:src|test|bench|scripts|public|migrations|docs)\/[^`\s]*)`/g)) {
    if (!/[<>{}*…]/.test(m[1]!)) paths.push(m[1]!);
  }
  return paths;
}

describe('README.md and docs/', () => {
  test('README.md stays a five-minute read', () => {
    const lines = readFileSync(path.join(ROOT, 'README.md'), 'utf8').replace(/\n$/, '').split('\n').length;
    expect({ lines, atMost: README_MAX_LINES, ok: lines <= README_MAX_LINES }).toEqual({ lines, atMost: README_MAX_LINES, ok: true });
  });

  test.each(DOCS.map((f) => [rel(f), f]))('every relative link and image in %s resolves to a file inside the repository', (_name, file) => {
    const problems = linkTargets(readFileSync(file, 'utf8'))
      .map((target) => ({ target, problem: linkProblem(file, target) }))
      .filter((p) => p.problem);
    expect(problems).toEqual([]);
  });

  test.each(DOCS.map((f) => [rel(f), f]))('every repository path %s names as code exists', (_name, file) => {
    const missing = repositoryPaths(readFileSync(file, 'utf8')).filter((p) => !existsSync(path.join(ROOT, p)));
    expect(missing).toEqual([]);
  });

  test.each(DOCS.map((f) => [rel(f), f]))('%s carries no tracker history ("issue 12")', (_name, file) => {
    const mentions = prose(readFileSync(file, 'utf8')).match(/\bissue\s+#?\d+/gi) ?? [];
    expect(mentions).toEqual([]);
  });
});

describe('the link check itself', () => {
  const readme = path.join(ROOT, 'README.md');

  test('accepts an existing file, a heading anchor and an external address', () => {
    expect(linkProblem(readme, 'docs/architecture.md')).toBeUndefined();
    expect(linkProblem(readme, 'docs/architecture.md#layer-directions')).toBeUndefined();
    expect(linkProblem(readme, 'https://temporal.io')).toBeUndefined();
  });

  test('refuses a missing file, a missing heading, an absolute path and a path out of the repository', () => {
    expect(linkProblem(readme, 'docs/no-such-page.md')).toBe('docs/no-such-page.md does not exist');
    expect(linkProblem(readme, 'docs/architecture.md#no-such-heading')).toBe('docs/architecture.md has no heading #no-such-heading');
    expect(linkProblem(readme, '/etc/passwd')).toMatch(/absolute path/);
    expect(linkProblem(readme, '../shared/DESIGN.md')).toBe('points outside the repository');
  });

  test('finds links and images in prose but not in code', () => {
    const md = '[a](x.md) ![b](img.png)\n[c]: ref.md\n`[d](code.md)`\n```\n[e](fenced.md)\n```\n<img src="raw.png">';
    expect(linkTargets(md).sort()).toEqual(['img.png', 'raw.png', 'ref.md', 'x.md']);
  });

  test('derives anchors the way GitHub does', () => {
    expect([...headingAnchors('## Sizing: 10× and 1000×, what to scale first\n## `docker-compose.yml` (x)\n## A\n## A')]).toEqual([
      'sizing-10-and-1000-what-to-scale-first',
      'docker-composeyml-x',
      'a',
      'a-1',
    ]);
  });
});
