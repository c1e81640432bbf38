import type { Command } from 'commander';
import type { UsageReport, UsageTotals } from '../../contracts/http';
import { query } from '../api-client';
import { action, client, print, table } from '../context';

const usd = (n: number): string => `$${n.toFixed(n !== 0 && Math.abs(n) < 0.01 ? 6 : 2)}`;
const row = (label: string, t: UsageTotals): string[] => [
  label,
  usd(t.costUsd),
  String(t.calls),
  String(t.inputTokens),
  String(t.outputTokens),
  t.audioSeconds.toFixed(1),
  t.encodedSeconds.toFixed(1),
];
const HEAD = ['COST', 'CALLS', 'TOKENS IN', 'TOKENS OUT', 'AUDIO S', 'ENCODED S'];

/** The cost report as people read it: per day, then the costliest videos, then the total. */
export function formatUsage(r: UsageReport, maxVideos = 20): string {
  const parts = [`usage ${r.from} → ${r.to} (${r.currency}, prices: built-in table with AI_PRICE_TABLE over it)`];
  if (r.days.length === 0) return `${parts[0]}\nnothing charged in this range`;
  parts.push('', table([['DAY', ...HEAD], ...r.days.map((d) => row(d.day, d))]));
  const shown = r.videos.slice(0, maxVideos);
  parts.push('', table([['VIDEO', ...HEAD], ...shown.map((v) => row(v.videoId, v))]));
  if (r.videos.length > shown.length) parts.push(`… and ${r.videos.length - shown.length} more videos (--json lists all)`);
  parts.push('', table([['TOTAL', ...HEAD], row('', r.totals)]));
  if (r.unpricedModels.length > 0) {
    const n = r.totals.unpricedCalls;
    parts.push(`not priced (${n} call${n === 1 ? '' : 's'}): ${r.unpricedModels.join(', ')} — add them to AI_PRICE_TABLE`);
  }
  return parts.join('\n');
}

export function registerUsage(program: Command): void {
  program
    .command('usage')
    .description('what the AI provider and the media step cost, per day and per video (operator key)')
    .option('--from <date>', 'first UTC day (YYYY-MM-DD) or an ISO time; default 30 days before --to')
    .option('--to <date>', 'last UTC day, included (YYYY-MM-DD), or an ISO time (excluded); default now')
    .action(
      action(async (options: { from?: string; to?: string }, cmd: Command) => {
        const report = await client(cmd).get<UsageReport>(`/usage${query({ from: options.from, to: options.to })}`);
        print(cmd, report, () => formatUsage(report));
      }),
    );
}
