import type { SearchFilters } from './video-index-repo';

/**
 * The WHERE conditions every search answer obeys, over `videos` under the alias `alias`: fully
 * indexed (searchable_at set by the index saga's last step), ready, not deleted (tombstoned
 * rows never show, from the first moment of a DELETE), and every filter. The semantic half
 * applies them to its candidates, the full-text half inside its query: both halves agree on
 * what may be shown. Values go into `args` (positional parameters), never into the SQL.
 */
export function searchableConditions(alias: string, f: SearchFilters, args: unknown[]): string[] {
  const a = alias ? `${alias}.` : '';
  const where = [`${a}status = 'ready'`, `${a}searchable_at IS NOT NULL`, `${a}deleted_at IS NULL`];
  const add = (sql: string, v: unknown) => {
    args.push(v);
    where.push(`${a}${sql.replace('?', `$${args.length}`)}`);
  };
  if (f.minDurationSec !== undefined) add('duration_sec >= ?', f.minDurationSec);
  if (f.maxDurationSec !== undefined) add('duration_sec <= ?', f.maxDurationSec);
  if (f.createdFrom) add('created_at >= ?', f.createdFrom);
  if (f.createdTo) add('created_at <= ?', f.createdTo);
  // Tags match case-insensitively (the API lower-cases the filter).
  if (f.tags && f.tags.length > 0) {
    args.push(f.tags);
    where.push(`ARRAY(SELECT lower(t) FROM unnest(${a}tags) AS t) @> $${args.length}::text[]`);
  }
  return where;
}
