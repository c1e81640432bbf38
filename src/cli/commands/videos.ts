import type { Command } from 'commander';
import type { VideoListResponse, VideoStatusResponse as VideoStatus } from '../../contracts/http';
import { query } from '../api-client';
import { action, CliError, client, print, table } from '../context';
import { followStatus } from '../follow';
import { StepProgress } from '../progress';

export function registerVideoCommands(program: Command): void {
  program
    .command('status')
    .description("show a video's status: step, progress, reason when degraded/waiting/failed, result")
    .argument('<videoId>')
    .option('--follow', 'show live progress (server-sent events) until the video is ready or failed')
    .addHelpText('after', '\nWith --follow: exit code 0 when the video is ready; 1 with the typed reason when it failed or was deleted.')
    .action(
      action(async (videoId: string, opts: { follow?: boolean }, cmd: Command) => {
        const api = client(cmd);
        let s: VideoStatus;
        if (opts.follow) {
          const progress = cmd.optsWithGlobals<{ json?: boolean }>().json ? undefined : new StepProgress();
          s = await followStatus(api, videoId, { timeoutMs: 24 * 3600_000, onStatus: (u) => progress?.update(u) }).finally(() =>
            progress?.stop(),
          );
        } else {
          s = await api.get<VideoStatus>(`/videos/${encodeURIComponent(videoId)}`);
        }
        print(cmd, s, () => describeStatus(s));
        if (opts.follow && s.status === 'failed') {
          const e = s.lastError;
          throw new CliError(`${s.videoId} failed at ${e?.step ?? s.step}: ${e?.type ?? 'Unknown'}: ${e?.message ?? 'no reason recorded'}`);
        }
      }),
    );

  program
    .command('list')
    .description('list videos, newest first')
    .option('--limit <n>', 'how many', '20')
    .option('--status <status>', 'only videos in this state (queued, ready, failed; delayed: ready with the analysis delayed)')
    .option('--cursor <cursor>', 'continue after a previous page (its nextCursor)')
    .action(
      action(async (opts: { limit: string; status?: string; cursor?: string }, cmd: Command) => {
        const page = await client(cmd).get<VideoListResponse>(
          `/videos${query({ limit: opts.limit, status: opts.status, cursor: opts.cursor })}`,
        );
        print(cmd, page, () => {
          if (page.items.length === 0) return 'no videos';
          const rows = [['ID', 'STATUS', 'CREATED', 'DURATION', 'SUMMARY / REASON']];
          for (const v of page.items) {
            rows.push([
              v.videoId,
              v.status === 'ready' && v.analysis === 'delayed' ? 'ready (analysis delayed)' : v.status,
              v.createdAt.slice(0, 19).replace('T', ' '),
              v.durationSec != null ? `${v.durationSec.toFixed(1)} s` : '',
              v.lastError ? `${v.lastError.type}: ${v.lastError.message}` : (v.summary ?? ''),
            ]);
          }
          return table(rows) + (page.nextCursor ? `\nmore: biblio list --cursor ${page.nextCursor}` : '');
        });
      }),
    );

  program
    .command('delete')
    .description('delete a video everywhere: cancels its run, removes its files, vector point and row (operator key)')
    .argument('<videoId>')
    .action(
      action(async (videoId: string, _opts: unknown, cmd: Command) => {
        const res = await client(cmd).request<{ deleted?: boolean; workflowId?: string } | undefined>(
          'DELETE',
          `/videos/${encodeURIComponent(videoId)}`,
        );
        print(cmd, res ?? { videoId, deleted: true, existed: false }, () =>
          res === undefined
            ? `${videoId}: nothing to delete`
            : res.deleted
              ? `deleted ${videoId}`
              : `deleting ${videoId}: a store is not answering; the deletion keeps retrying (workflow ${res.workflowId})`,
        );
      }),
    );

  program
    .command('refresh-url')
    .description('give a video waiting for its source a new URL (e.g. a fresh presigned link)')
    .argument('<videoId>')
    .argument('<url>', 'the new http(s) URL of the same source')
    .action(
      action(async (videoId: string, url: string, _opts: unknown, cmd: Command) => {
        const res = await client(cmd).post<unknown>(`/videos/${encodeURIComponent(videoId)}/refresh-url`, { url });
        print(cmd, res ?? { ok: true }, () => `sent a new URL to ${videoId}`);
      }),
    );
}

export function describeStatus(s: VideoStatus): string {
  const lines = [
    `${s.videoId}  ${s.status}  step ${s.step}${s.progress ? ` ${Math.round(s.progress.percent)}% (${s.progress.phase})` : ''}`,
  ];
  if (s.attempt && s.attempt > 1) lines.push(`  attempt   ${s.attempt}`);
  if (s.waitingFor) lines.push(`  waiting   ${s.waitingFor}`);
  if (s.lastError)
    lines.push(
      `  ${s.status === 'failed' ? 'failed   ' : 'last error'} ${s.lastError.type} at ${s.lastError.step ?? '?'}: ${s.lastError.message}`,
    );
  const r = s.result;
  if (r) {
    lines.push(`  video     ${r.width}x${r.height}, ${r.durationSec} s`);
    lines.push(`  summary   ${r.summary}`);
    lines.push(`  tags      ${r.tags.join(', ')}`);
    lines.push(`  analyzer  ${r.analyzer}/${r.model}${r.offlineAnalysis ? ' (offline — not AI)' : ''}`);
  }
  lines.push(`  temporal  ${s.links.temporalUi}`);
  return lines.join('\n');
}
