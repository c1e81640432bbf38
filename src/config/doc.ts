import type { z } from 'zod';
import type { ConfigArea, DocMeta } from './area';
import { CROSS_RULES } from './cross-checks';
import { AREAS } from './schema';

/** Where the document lives and how to regenerate it (scripts/config-doc.ts writes it). */
export const CONFIG_DOC_PATH = 'docs/configuration.md';

const HEADER = `# Configuration

<!-- Generated from src/config/ by \`npm run docs:config\`. Edit the declarations there, not this file:
     test/unit/config-doc.test.ts fails when the two differ. -->

Biblio reads its configuration from environment variables once, at start-up (\`loadConfig\` in
\`src/config/\`), and nothing else reads \`process.env\`. Every variable is optional: the defaults run
the embedded set-up on one machine. An empty value counts as unset. A value that fails its check, or
a combination that breaks one of the rules at the end, stops the process before it starts anything,
with one line per problem naming the variable.
`;

const UNITS: [suffix: string, steps: [size: number, unit: string][]][] = [
  [
    '_MS',
    [
      [24 * 3_600_000, 'days'],
      [3_600_000, 'h'],
      [60_000, 'min'],
      [1_000, 's'],
    ],
  ],
  [
    '_SEC',
    [
      [3600, 'h'],
      [60, 'min'],
    ],
  ],
  [
    '_BYTES',
    [
      [1024 ** 3, 'GiB'],
      [1024 ** 2, 'MiB'],
      [1024, 'KiB'],
    ],
  ],
];

/** A readable form of a default in its variable's unit (from the name's suffix), for whole multiples only. */
function unitHint(name: string, value: number): string {
  const steps = UNITS.find(([suffix]) => name.endsWith(suffix))?.[1] ?? [];
  for (const [size, unit] of steps) {
    const n = value / size;
    if (Number.isInteger(n) && n >= 1) return ` (${n} ${n === 1 && unit === 'days' ? 'day' : unit})`;
  }
  return '';
}

function defaultCell(name: string, schema: z.ZodType): string {
  const whenUnset = (schema.meta() as DocMeta | undefined)?.whenUnset;
  if (whenUnset) return whenUnset;
  const parsed = schema.safeParse(undefined);
  const value: unknown = parsed.success ? parsed.data : undefined;
  if (value === undefined) return 'unset';
  if (value === '') return 'empty';
  if (typeof value === 'number') return `\`${value}\`${unitHint(name, value)}`;
  return `\`${String(value)}\``;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function areaSection(area: ConfigArea): string {
  const rows = Object.entries(area.variables.shape).map(([name, schema]) => {
    const description = schema.description;
    if (!description) throw new Error(`${name} has no .describe() sentence: every variable needs one for ${CONFIG_DOC_PATH}`);
    return `| \`${name}\` | ${cell(defaultCell(name, schema))} | ${cell(description)} |`;
  });
  const external = (area.external ?? []).map((v) => `| \`${v.name}\` | ${cell(v.default)} | ${cell(v.description)} |`);
  const lines = [`## ${area.title}`, '', area.about, ''];
  if (rows.length) lines.push('| variable | default | description |', '|---|---|---|', ...rows, '');
  if (external.length) {
    if (rows.length) lines.push('Read by a library rather than by `loadConfig`:', '');
    lines.push('| variable | default | description |', '|---|---|---|', ...external, '');
  }
  return lines.join('\n');
}

function rulesSection(): string {
  return [
    '## Rules between variables',
    '',
    'Checked at start-up after every variable passed its own check (`src/config/cross-checks.ts`):',
    '',
    ...CROSS_RULES.map((r) => `- ${r.says}`),
    '',
  ].join('\n');
}

/** The whole document, from the area declarations and the cross-field rules. */
export function renderConfigDoc(): string {
  return [HEADER, ...AREAS.map(areaSection), rulesSection()].join('\n');
}
