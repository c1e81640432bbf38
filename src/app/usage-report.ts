import { z } from 'zod';
import type { UsageGroup, UsageLedgerRepo } from '../db/usage-ledger-repo';

/**
 * The cost report: the usage ledger priced per video and per UTC day. Prices come
 * from DEFAULT_PRICES (list prices in USD when this was written) overridden per model by the
 * AI_PRICE_TABLE environment variable (docs/index-search-delete.md, "Usage and cost"); a model in neither is counted
 * but left unpriced, and named in the report, never guessed.
 */
export interface ModelPrice {
  /** USD per million input (prompt) tokens, image tokens included. */
  inputPerMillion?: number;
  /** USD per million output (completion) tokens. */
  outputPerMillion?: number;
  /** USD per minute of audio (transcription billed by length). */
  audioPerMinute?: number;
}
export type PriceTable = Record<string, ModelPrice>;

export const DEFAULT_PRICES: PriceTable = {
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'text-embedding-3-small': { inputPerMillion: 0.02 },
  'text-embedding-3-large': { inputPerMillion: 0.13 },
  'whisper-1': { audioPerMinute: 0.006 },
  'gpt-4o-transcribe': { audioPerMinute: 0.006 },
  'gpt-4o-mini-transcribe': { audioPerMinute: 0.003 },
};

const price = z.number().finite().min(0);
const priceTableSchema = z.record(
  z.string().min(1),
  z.object({ inputPerMillion: price.optional(), outputPerMillion: price.optional(), audioPerMinute: price.optional() }).strict(),
);

export class PriceTableError extends Error {
  override readonly name = 'PriceTableError';
}

/** DEFAULT_PRICES with AI_PRICE_TABLE's models over them (a model given there replaces its default entry). */
export function priceTable(json: string | undefined): PriceTable {
  if (!json) return { ...DEFAULT_PRICES };
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new PriceTableError(
      'AI_PRICE_TABLE is not JSON; expected e.g. {"gpt-4o-mini": {"inputPerMillion": 0.15, "outputPerMillion": 0.6}}',
    );
  }
  const parsed = priceTableSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PriceTableError(
      `AI_PRICE_TABLE: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'} (per model: inputPerMillion, outputPerMillion, audioPerMinute in USD)`,
    );
  }
  return { ...DEFAULT_PRICES, ...parsed.data };
}

export interface UsageTotals {
  costUsd: number;
  /** Paid AI requests (ledger rows with a request id). */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  imageTokens: number;
  audioSeconds: number;
  /** Seconds of video the media step encoded (our own compute: counted, not priced). */
  encodedSeconds: number;
  /** AI rows whose model has no price (or legacy whole-analysis rows): counted, not in costUsd. */
  unpricedCalls: number;
}

export interface UsageReport {
  from: string;
  to: string;
  currency: 'USD';
  totals: UsageTotals;
  days: (UsageTotals & { day: string })[];
  videos: (UsageTotals & { videoId: string })[];
  unpricedModels: string[];
  prices: PriceTable;
}

const AI_KINDS = new Set(['chat', 'embedding', 'transcription']);

/** What one ledger group costs under `prices`; undefined when it cannot be priced. */
export function costOf(g: UsageGroup, prices: PriceTable): number | undefined {
  if (g.kind === 'encoded_seconds') return 0;
  if (!AI_KINDS.has(g.kind) || !g.model) return undefined;
  const p = prices[g.model];
  if (!p) return undefined;
  if (g.kind === 'transcription' && g.audioSeconds > 0 && p.audioPerMinute !== undefined) {
    return (g.audioSeconds / 60) * p.audioPerMinute;
  }
  if (p.inputPerMillion === undefined && p.outputPerMillion === undefined) return undefined;
  return (g.inputTokens * (p.inputPerMillion ?? 0) + g.outputTokens * (p.outputPerMillion ?? 0)) / 1e6;
}

function emptyTotals(): UsageTotals {
  return { costUsd: 0, calls: 0, inputTokens: 0, outputTokens: 0, imageTokens: 0, audioSeconds: 0, encodedSeconds: 0, unpricedCalls: 0 };
}

function add(t: UsageTotals, g: UsageGroup, cost: number | undefined): void {
  if (g.kind === 'encoded_seconds') {
    t.encodedSeconds += g.quantity;
    return;
  }
  t.calls += g.calls;
  t.inputTokens += g.inputTokens;
  t.outputTokens += g.outputTokens;
  t.imageTokens += g.imageTokens;
  t.audioSeconds += g.audioSeconds;
  if (cost === undefined) t.unpricedCalls += g.calls;
  else t.costUsd += cost;
}

/** Rounds money to a millionth of a dollar (sub-cent calls add up; floats should not show noise). */
const money = (t: UsageTotals): UsageTotals => ({ ...t, costUsd: Math.round(t.costUsd * 1e6) / 1e6 });

/** Prices ledger groups and sums them per day, per video and overall (videos by cost, highest first). */
export function buildUsageReport(groups: UsageGroup[], prices: PriceTable, from: Date, to: Date): UsageReport {
  const totals = emptyTotals();
  const days = new Map<string, UsageTotals>();
  const videos = new Map<string, UsageTotals>();
  const unpriced = new Set<string>();
  for (const g of groups) {
    const cost = costOf(g, prices);
    if (cost === undefined) unpriced.add(g.model ?? `(${g.kind})`);
    add(totals, g, cost);
    add(days.get(g.day) ?? days.set(g.day, emptyTotals()).get(g.day)!, g, cost);
    add(videos.get(g.videoId) ?? videos.set(g.videoId, emptyTotals()).get(g.videoId)!, g, cost);
  }
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    currency: 'USD',
    totals: money(totals),
    days: [...days].map(([day, t]) => ({ day, ...money(t) })),
    videos: [...videos]
      .map(([videoId, t]) => ({ videoId, ...money(t) }))
      .sort((a, b) => b.costUsd - a.costUsd || a.videoId.localeCompare(b.videoId)),
    unpricedModels: [...unpriced].sort(),
    prices,
  };
}

export class UsageReportService {
  constructor(
    private readonly ledger: UsageLedgerRepo,
    private readonly prices: PriceTable,
  ) {}

  async report(from: Date, to: Date): Promise<UsageReport> {
    return buildUsageReport(await this.ledger.groups(from, to), this.prices, from, to);
  }
}
