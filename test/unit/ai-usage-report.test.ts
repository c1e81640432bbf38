import { buildUsageReport, costOf, DEFAULT_PRICES, priceTable, PriceTableError } from '../../src/app/usage-report';
import { usageRange } from '../../src/api/routes/usage';
import { formatUsage } from '../../src/cli/commands/usage';
import type { UsageGroup } from '../../src/db/usage-ledger-repo';

const group = (g: Partial<UsageGroup>): UsageGroup => ({
  videoId: 'v1',
  day: '2026-12-06',
  kind: 'chat',
  model: 'gpt-4o-mini',
  calls: 1,
  quantity: 0,
  inputTokens: 0,
  outputTokens: 0,
  imageTokens: 0,
  audioSeconds: 0,
  ...g,
});

describe('price table', () => {
  it('is the default table without AI_PRICE_TABLE, and overrides or adds models from it', () => {
    expect(priceTable(undefined)).toEqual(DEFAULT_PRICES);
    const t = priceTable('{"gpt-4o-mini": {"inputPerMillion": 1, "outputPerMillion": 2}, "llava": {"inputPerMillion": 0}}');
    expect(t['gpt-4o-mini']).toEqual({ inputPerMillion: 1, outputPerMillion: 2 });
    expect(t['llava']).toEqual({ inputPerMillion: 0 });
    expect(t['whisper-1']).toEqual(DEFAULT_PRICES['whisper-1']);
  });

  it('refuses a table that is not JSON or has unknown fields or negative prices, naming the problem', () => {
    expect(() => priceTable('{nope')).toThrow(PriceTableError);
    expect(() => priceTable('{"m": {"perToken": 1}}')).toThrow(/AI_PRICE_TABLE: m/);
    expect(() => priceTable('{"m": {"inputPerMillion": -1}}')).toThrow(/AI_PRICE_TABLE: m.inputPerMillion/);
  });
});

describe('cost of ledger rows', () => {
  it('prices tokens per million and transcription per audio minute', () => {
    expect(costOf(group({ inputTokens: 1_000_000, outputTokens: 500_000 }), DEFAULT_PRICES)).toBeCloseTo(0.15 + 0.3);
    expect(costOf(group({ kind: 'embedding', model: 'text-embedding-3-small', inputTokens: 2_000_000 }), DEFAULT_PRICES)).toBeCloseTo(0.04);
    expect(costOf(group({ kind: 'transcription', model: 'whisper-1', audioSeconds: 90 }), DEFAULT_PRICES)).toBeCloseTo(0.009);
  });

  it('leaves unknown models and legacy whole-analysis rows unpriced; encoded seconds cost nothing', () => {
    expect(costOf(group({ model: 'mystery' }), DEFAULT_PRICES)).toBeUndefined();
    expect(costOf(group({ kind: 'ai_tokens', model: null, quantity: 500 }), DEFAULT_PRICES)).toBeUndefined();
    expect(costOf(group({ kind: 'encoded_seconds', model: null, quantity: 30 }), DEFAULT_PRICES)).toBe(0);
  });
});

describe('usage report', () => {
  it('sums per day and per video (costliest first), counts unpriced calls apart and names their models', () => {
    const r = buildUsageReport(
      [
        group({ videoId: 'a', inputTokens: 1_000_000, calls: 2 }),
        group({ videoId: 'a', kind: 'encoded_seconds', model: null, calls: 1, quantity: 12.5 }),
        group({ videoId: 'b', day: '2026-12-07', kind: 'transcription', model: 'whisper-1', audioSeconds: 600 }),
        group({ videoId: 'b', day: '2026-12-07', model: 'mystery', inputTokens: 10 }),
      ],
      DEFAULT_PRICES,
      new Date('2026-12-01T00:00:00Z'),
      new Date('2026-12-08T00:00:00Z'),
    );
    expect(r.totals).toMatchObject({ costUsd: 0.21, calls: 4, encodedSeconds: 12.5, audioSeconds: 600, unpricedCalls: 1 });
    expect(r.days.map((d) => [d.day, d.costUsd])).toEqual([
      ['2026-12-06', 0.15],
      ['2026-12-07', 0.06],
    ]);
    expect(r.videos.map((v) => [v.videoId, v.costUsd, v.calls])).toEqual([
      ['a', 0.15, 2],
      ['b', 0.06, 2],
    ]);
    expect(r.unpricedModels).toEqual(['mystery']);
  });

  it('reads a date-only `to` as the whole UTC day and defaults to the last 30 days', () => {
    expect(usageRange({ from: '2026-12-01', to: '2026-12-06' })).toEqual({
      from: new Date('2026-12-01T00:00:00Z'),
      to: new Date('2026-12-07T00:00:00Z'),
    });
    const now = new Date('2026-12-06T12:00:00Z');
    expect(usageRange({}, now)).toEqual({ from: new Date('2026-11-06T12:00:00Z'), to: now });
  });
});

describe('biblio usage (human output)', () => {
  it('prints days, the costliest videos, the total and what is not priced', () => {
    const r = buildUsageReport(
      [group({ videoId: 'a', inputTokens: 1_000_000 }), group({ videoId: 'b', model: 'mystery', inputTokens: 5 })],
      DEFAULT_PRICES,
      new Date('2026-12-01T00:00:00Z'),
      new Date('2026-12-08T00:00:00Z'),
    );
    const text = formatUsage(r);
    expect(text).toMatch(/^DAY\s+COST/m);
    expect(text).toMatch(/^2026-12-06\s+\$0\.15\s+2/m);
    expect(text).toMatch(/^a\s+\$0\.15/m);
    expect(text).toMatch(/^TOTAL/m);
    expect(text).toContain('not priced (1 call): mystery');
    expect(formatUsage(buildUsageReport([], DEFAULT_PRICES, new Date(0), new Date(1)))).toContain('nothing charged in this range');
  });
});
