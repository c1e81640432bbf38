import { copyFile, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { UploadTicket, VideoStatus } from '../../contracts/http';
// A local API without uploads reads file sources from its ingest dir; the CLI copies the file there.
// eslint-disable-next-line no-restricted-imports -- the same BIBLIO_INGEST_DIR setting the local API reads
import { loadConfig } from '../../config';
import { ApiError, type ApiClient } from '../api-client';
import { sendUpload } from '../resumable-upload';
import { action, client, CliError, EXIT, globals } from '../context';
import { StepProgress } from '../progress';
import { followStatus } from '../follow';

const CONTENT_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
  '.avi': 'video/x-msvideo',
};

export function registerSubmit(program: Command): void {
  program
    .command('submit')
    .description('submit a local video file or an http(s) URL and follow it until it is ready')
    .argument('<file|url>', 'a video file on this machine, or an http(s) URL the workers can fetch')
    .option('--id <videoId>', 'video id to use ([A-Za-z0-9_-]{1,64}); generated when omitted')
    .option('--no-wait', 'return as soon as the video is accepted')
    .option('--timeout <seconds>', 'give up waiting after this long', '3600')
    .addHelpText('after', '\nExit code 0 when the video is ready; 1 with the typed reason when it failed; 3 when the API is unreachable.')
    .action(
      action(async (source: string, opts: { id?: string; wait: boolean; timeout: string }, cmd: Command) => {
        const api = client(cmd);
        const json = Boolean(globals(cmd).json);
        const isUrl = /^https?:\/\//i.test(source);
        const progress = opts.wait && !json ? new StepProgress(process.stderr, !isUrl) : undefined;
        try {
          const started = isUrl
            ? await api.post<VideoStatus>('/videos', { ...(opts.id ? { videoId: opts.id } : {}), source: { kind: 'url', url: source } })
            : await submitFile(api, source, opts.id, progress);
          if (!opts.wait) {
            progress?.stop();
            process.stdout.write(json ? `${JSON.stringify(started, null, 2)}\n` : `${started.videoId} accepted (${started.status})\n`);
            return;
          }
          const final = await followStatus(api, started.videoId, {
            timeoutMs: Number(opts.timeout) * 1000,
            onStatus: (s) => progress?.update(s),
          });
          progress?.stop();
          if (json) process.stdout.write(`${JSON.stringify(final, null, 2)}\n`);
          if (final.status !== 'ready') {
            const e = final.lastError;
            throw new CliError(
              `${final.videoId} failed at ${e?.step ?? final.step}: ${e?.type ?? 'Unknown'}: ${e?.message ?? 'no reason recorded'}`,
            );
          }
          if (!json) {
            const r = final.result;
            process.stdout.write(
              `${final.videoId} ready` +
                (r ? ` — ${r.width}x${r.height}, ${r.durationSec} s; ${r.summary}` : '') +
                `\n  status   ${api.url(`/videos/${final.videoId}`)}\n  temporal ${final.links.temporalUi}\n`,
            );
          }
        } finally {
          progress?.stop();
        }
      }),
    );
}

async function submitFile(api: ApiClient, file: string, videoId: string | undefined, progress?: StepProgress): Promise<VideoStatus> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new CliError(`no such file: ${file}`, EXIT.usage);
  if (!info.isFile()) throw new CliError(`not a regular file: ${file}`, EXIT.usage);

  // Preferred: the server's upload flow (works for remote APIs). Older servers have none.
  let ticket: UploadTicket | undefined;
  try {
    ticket = await api.post<UploadTicket>('/uploads', {
      ...(videoId ? { videoId } : {}),
      filename: safeFilename(path.basename(file)),
      sizeBytes: info.size,
      contentType: CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  if (ticket) {
    // Resumes by itself after a dropped connection or an API restart (multipart above the server's threshold).
    const done = await sendUpload(api, ticket, file, {
      onProgress: (sent, total) => progress?.upload(sent, total),
      onRetry: (err, n) => process.stderr.write(`upload interrupted (${err.message}); resuming, try ${n}\n`),
    });
    return api.post<VideoStatus>('/videos', done.next.body);
  }

  if (!api.isLocal()) {
    throw new CliError(`the API at ${api.baseUrl} offers no uploads (POST /uploads: 404) and is not on this machine; submit a URL instead`);
  }
  // A local API reads file sources from its ingest dir: copy the file there.
  const { ingestDir } = loadConfig();
  const rel = path.join('cli', `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`, path.basename(file));
  await mkdir(path.dirname(path.join(ingestDir, rel)), { recursive: true });
  await copyFile(file, path.join(ingestDir, rel));
  progress?.upload(info.size, info.size);
  return api.post<VideoStatus>('/videos', { ...(videoId ? { videoId } : {}), source: { kind: 'file', path: rel } });
}

/** The server shows the name only; it refuses characters outside its small set, so they become "_". */
function safeFilename(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9 ._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  return (cleaned || 'video').slice(0, 200);
}
