import type { Command } from 'commander';
import { ApiError, query, type ApiClient } from '../api-client';
import { action, CliError, client, describeApiError, EXIT, print, table } from '../context';
import type { VideoListItem } from '../../contracts/http';

interface ReanalysisOutcome {
  videoId: string;
  action: 'signalled' | 'started';
  workflowId: string;
}

type Row = ReanalysisOutcome | { videoId: string; error: string };

/** Every video whose analysis is delayed, all pages (ids first: re-analysing one must not move the cursor under us). */
async function delayedVideoIds(api: ApiClient): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<{ items: VideoListItem[]; nextCursor: string | null }>(
      `/videos${query({ status: 'delayed', limit: 100, cursor })}`,
    );
    ids.push(...page.items.map((v) => v.videoId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ids;
}

export function registerReanalyze(program: Command): void {
  program
    .command('reanalyze')
    .description(
      'analyse again videos whose AI analysis is delayed (the provider was unavailable): one id, or --delayed for all (operator key)',
    )
    .argument('[videoId]')
    .option('--delayed', 'every video listed by `biblio list --status delayed`')
    .action(
      action(async (videoId: string | undefined, opts: { delayed?: boolean }, cmd: Command) => {
        if (!videoId === !opts.delayed) throw new CliError('give a video id or --delayed (not both)', EXIT.usage);
        const api = client(cmd);
        const ids = videoId ? [videoId] : await delayedVideoIds(api);
        const rows: Row[] = [];
        for (const id of ids) {
          try {
            rows.push(await api.post<ReanalysisOutcome>(`/videos/${encodeURIComponent(id)}/reanalyze`));
          } catch (err) {
            // One id: its refusal is the answer. Many: report each and go on with the others.
            if (!(err instanceof ApiError) || videoId || err.status === 0 || err.status >= 500) throw err;
            rows.push({ videoId: id, error: describeApiError(err) });
          }
        }
        print(cmd, { items: rows }, () => {
          if (rows.length === 0) return 'no delayed videos';
          const lines = [['VIDEO', 'RE-ANALYSIS']];
          for (const r of rows)
            lines.push([
              r.videoId,
              'error' in r ? r.error : r.action === 'signalled' ? 'its run tries now' : `started (workflow ${r.workflowId})`,
            ]);
          return `${table(lines)}\nfollow with: biblio status <videoId> (analysis: complete when done)`;
        });
        if (rows.some((r) => 'error' in r)) process.exitCode = EXIT.failed;
      }),
    );
}
