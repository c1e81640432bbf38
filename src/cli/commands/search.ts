import type { Command } from 'commander';
import type { SearchHit, SearchResponse } from '../../contracts/http';
import { query } from '../api-client';
import { action, client, globals, print, table } from '../context';

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('search ready videos by what they show and say; each hit lists the moments and a link that plays from there')
    .argument('<query...>', 'words describing what you look for, or words spoken in the video')
    .option('--limit <n>', 'how many results', '10')
    .option('--mode <mode>', 'hybrid (default: words and meaning), vector (meaning only) or text (words only)')
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
            mode: options.mode,
            status: options.status,
            tags: options.tags,
            minDuration: options.minDuration,
            maxDuration: options.maxDuration,
            createdAfter: options.createdAfter,
            createdBefore: options.createdBefore,
            offset: options.offset,
          })}`,
        );
        print(cmd, res, () => formatHits(res, globals(cmd).apiUrl));
      }),
    );
}

/**
 * The human answer: one table row per hit, its moments under it (time, the words said in quotes
 * or what a keyframe shows after "shown:", player link).
 */
export function formatHits(res: Pick<SearchResponse, 'results' | 'nextOffset'>, apiUrl: string): string {
  if (res.results.length === 0) return 'no matches';
  const lines = table([
    ['SCORE', 'ID', 'TAGS', 'SUMMARY'],
    ...res.results.map((h) => [h.score.toFixed(3), h.videoId, h.tags.join(','), h.summary ?? '']),
  ]).split('\n');
  const out = [lines[0]!];
  res.results.forEach((h, i) => {
    out.push(lines[i + 1]!);
    for (const m of momentsOf(h)) {
      const words = m.source === 'keyframe' ? `shown: ${m.text}` : `"${m.text}"`;
      out.push(`  ${clock(m.startSec)}–${clock(m.endSec)}  ${words}  ${playerLink(apiUrl, h.videoId, m.startSec)}`);
    }
  });
  return out.join('\n') + (res.nextOffset != null ? `\nmore: --offset ${res.nextOffset}` : '');
}

/** An answer from an API before moments existed has none. */
function momentsOf(h: SearchHit): SearchHit['moments'] {
  return Array.isArray(h.moments) ? h.moments : [];
}

/**
 * The dashboard with the video's player open at `sec` (public/dashboard/search-moments.js reads
 * `#video=<id>&t=<seconds>`; a fragment, so it never reaches the server or its logs). Whole
 * seconds, rounded down: the player starts at or just before the words.
 */
export function playerLink(apiUrl: string, videoId: string, sec: number): string {
  const base = apiUrl.replace(/\/+$/, '');
  return `${base}/dashboard/#video=${encodeURIComponent(videoId)}&t=${Math.max(0, Math.floor(sec))}`;
}

/** 75.2 → "1:15"; 3725 → "1:02:05". */
export function clock(sec: number): string {
  const total = Math.max(0, Math.floor(sec));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
