// Pure: the generated blocks of docs/benchmarks.md. Each lives between `<!-- name:start -->` and
// `<!-- name:end -->`; a run replaces what is between its markers and nothing else, so the
// hand-written prose around them stays.

export const startMarker = (name: string): string => `<!-- ${name}:start -->`;
export const endMarker = (name: string): string => `<!-- ${name}:end -->`;

/**
 * The document with `markdown` between the markers of `name`. Without the markers the block is
 * appended under `heading` (a new `## heading` section); one marker alone is a damaged document.
 */
export function replaceSection(doc: string, name: string, markdown: string, heading = name): string {
  const [start, end] = [startMarker(name), endMarker(name)];
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a >= 0 && b > a) {
    if (doc.indexOf(start, a + 1) >= 0 || doc.indexOf(end, b + 1) >= 0) throw new Error(`the ${name} markers appear twice`);
    return doc.slice(0, a) + block + doc.slice(b + end.length);
  }
  if (a >= 0 || b >= 0) throw new Error(`only one of the ${name} markers is present (or the end comes first)`);
  return `${doc.trimEnd()}\n\n## ${heading}\n\n${block}\n`;
}

/** What is between the markers of `name`, or undefined. */
export function sectionOf(doc: string, name: string): string | undefined {
  const a = doc.indexOf(startMarker(name));
  const b = doc.indexOf(endMarker(name));
  return a >= 0 && b > a ? doc.slice(a + startMarker(name).length, b).trim() : undefined;
}

export interface Target {
  /** `≤`: the figure must not exceed `value`; `≥`: must reach it. */
  op: '≤' | '≥';
  value: number;
  /** Unit as written after the number (`%`, ` s`, `×`, or ''). */
  unit: string;
  digits?: number;
}

export const fmt = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');

export function met(target: Target, measured: number): boolean {
  return Number.isFinite(measured) && (target.op === '≤' ? measured <= target.value : measured >= target.value);
}

/** "target ≤ 1 %: met, 0.8 %" / "target ≤ 1 %: **not met**, 2.0 %" (no figure: "not measured"). */
export function verdict(target: Target, measured: number): string {
  const d = target.digits ?? 1;
  const goal = `target ${target.op} ${fmt(target.value, d)}${target.unit}`;
  if (!Number.isFinite(measured)) return `${goal}: **not measured**`;
  return `${goal}: ${met(target, measured) ? 'met' : '**not met**'}, ${fmt(measured, d)}${target.unit}`;
}

export function median(xs: readonly number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** "12.3 s (11.8–13.0, n=4)": median, range and count of samples in ms, shown in seconds. */
export function secondsSpread(ms: readonly number[], digits = 1): string {
  const ok = ms.filter(Number.isFinite);
  if (ok.length === 0) return '—';
  const s = (v: number) => fmt(v / 1000, digits);
  if (ok.length === 1) return `${s(ok[0]!)} s`;
  return `${s(median(ok))} s (${s(Math.min(...ok))}–${s(Math.max(...ok))}, n=${ok.length})`;
}

/** A markdown table from a header and rows (cells with `|` escaped). */
export function table(head: string[], rows: (string | number)[][]): string {
  const cell = (c: string | number) => String(c).replace(/\|/g, '\\|');
  return [
    `| ${head.map(cell).join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/**
 * The summary block of an earlier run with some of its table rows re-measured: each line of
 * `fresh` that is a table row whose first cell starts with one of `labels` (e.g. "(e)")
 * replaces the row with the same first cell in `old`, and `note` is added under the block.
 * Rows of parts not re-run stay as that earlier run measured them.
 */
export function replaceRows(old: string, fresh: string, labels: readonly string[], note: string): string {
  const firstCell = (line: string): string | undefined => (line.startsWith('| ') ? line.slice(2).split(' | ')[0] : undefined);
  const wanted = new Map<string, string>();
  for (const line of fresh.split('\n')) {
    const cell = firstCell(line);
    if (cell && labels.some((l) => cell.startsWith(l))) wanted.set(cell, line);
  }
  const lines = old.split('\n').map((line) => {
    const cell = firstCell(line);
    return cell && wanted.has(cell) ? wanted.get(cell)! : line;
  });
  return `${lines.join('\n').trimEnd()}\n\n${note}`;
}
