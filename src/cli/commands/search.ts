import type { Command } from 'commander';
import type { SearchResponse } from '../../contracts/http';
import { query } from '../api-client';
import { action, client, print, table } from '../context';

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('semantic search over ready videos')
    .argument('<query...>', 'words describing what you look for')
    .option('--limit <n>', 'how many results', '10')
    .option('--status <status>', 'filter by status')
    .option('--tags <tags>', 'comma-separated tags every result must have')
    .option('--min-duration <seconds>', 'shortest duration')
    .option('--max-duration <seconds>', 'longest duration')
    .option('--created-after <iso date>', 'created at or after')
    .option('--created-before <iso date>', 'created before')
    .option('--offset <n>', 'skip this many results (the next page: the nextOffset of the previous answer)')
    .action(
      action(async (words: string[], options: Record<string, string | undefined>, cmd: Command) => {
        const res = await client(cmd).get<SearchResponse>(
          `/search${query({
            q: words.join(' '),
            limit: options.limit,
            status: options.status,
            tags: options.tags,
            minDuration: options.minDuration,
            maxDuration: options.maxDuration,
            createdAfter: options.createdAfter,
            createdBefore: options.createdBefore,
            offset: options.offset,
          })}`,
        );
        print(cmd, res, () => {
          if (res.results.length === 0) return 'no matches';
          const rows = [['SCORE', 'ID', 'TAGS', 'SUMMARY']];
          for (const h of res.results) rows.push([h.score.toFixed(3), h.videoId, h.tags.join(','), h.summary ?? '']);
          return table(rows) + (res.nextOffset != null ? `\nmore: --offset ${res.nextOffset}` : '');
        });
      }),
    );
}
