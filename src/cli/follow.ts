import type { VideoStatus } from '../contracts/http';
import { DELETED_EVENT, STATUS_EVENT, STATUS_EVENTS_RETRY_MS } from '../contracts/status-events';
import { ApiError, type ApiClient, type ErrorBody } from './api-client';
import { CliError } from './context';
import { readSse, SseParser } from './sse';

/** Where the CLI stops following (the stream itself may go on while a delayed analysis is retried). */
const FINAL = new Set(['ready', 'failed']);
/** Stream drops in a row before the CLI polls instead. */
const MAX_DROPS = 3;
const POLL_MS = 300;

/**
 * A video's status until it is ready or failed: from GET /videos/:id/events (one request, the
 * server sends each change), or by polling GET /videos/:id against a server without the stream
 * (404), with every stream taken (503), or after the stream keeps dropping.
 */
export async function followStatus(
  api: ApiClient,
  videoId: string,
  opts: { timeoutMs: number; onStatus?: (s: VideoStatus) => void },
): Promise<VideoStatus> {
  const deadline = Date.now() + opts.timeoutMs;
  const path = `/videos/${encodeURIComponent(videoId)}`;
  let lastId: string | undefined;
  let last: VideoStatus | undefined;
  for (let drops = 0; drops < MAX_DROPS;) {
    const parser = new SseParser();
    const left = deadline - Date.now();
    if (left <= 0) throw stillRunning(videoId, last, opts.timeoutMs);
    const res = await openStream(api, `${path}/events`, lastId, left);
    if (res === 'unsupported') break;
    if (res !== 'dropped') {
      try {
        for await (const ev of readSse(res, parser)) {
          lastId = ev.id ?? lastId;
          drops = 0;
          if (ev.event === DELETED_EVENT) throw new CliError(`${videoId} was deleted`);
          if (ev.event !== STATUS_EVENT) continue;
          last = JSON.parse(ev.data) as VideoStatus;
          opts.onStatus?.(last);
          if (FINAL.has(last.status)) return last;
        }
      } catch (err) {
        if (err instanceof CliError) throw err;
        if ((err as Error).name === 'TimeoutError') throw stillRunning(videoId, last, opts.timeoutMs);
        // A dropped connection: reconnect below.
      }
    }
    drops++;
    await sleep(parser.retryMs ?? STATUS_EVENTS_RETRY_MS);
  }
  return poll(api, path, videoId, deadline, opts);
}

/** The stream's body; 'unsupported' when polling must do; 'dropped' when the API could not be reached this time. */
async function openStream(
  api: ApiClient,
  path: string,
  lastId: string | undefined,
  timeoutMs: number,
): Promise<ReadableStream<Uint8Array> | 'unsupported' | 'dropped'> {
  let res: Response;
  try {
    res = await fetch(api.url(path), {
      headers: api.headers({ accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    return 'dropped';
  }
  if (res.ok && res.body) return res.body;
  const text = await res.text().catch(() => '');
  let body: ErrorBody | undefined;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    body = undefined;
  }
  const e = body?.error;
  if ((res.status === 404 && e?.type === 'RouteNotFound') || res.status === 503) return 'unsupported';
  throw new ApiError(res.status, e?.type ?? `Http${res.status}`, e?.message ?? (text.slice(0, 200) || res.statusText), e?.hint);
}

async function poll(
  api: ApiClient,
  path: string,
  videoId: string,
  deadline: number,
  opts: { timeoutMs: number; onStatus?: (s: VideoStatus) => void },
): Promise<VideoStatus> {
  for (;;) {
    const s = await api.get<VideoStatus>(path);
    opts.onStatus?.(s);
    if (FINAL.has(s.status)) return s;
    if (Date.now() > deadline) throw stillRunning(videoId, s, opts.timeoutMs);
    await sleep(POLL_MS);
  }
}

function stillRunning(videoId: string, s: VideoStatus | undefined, timeoutMs: number): CliError {
  return new CliError(
    `${videoId} still ${s?.status ?? 'running'} at ${s?.step ?? '?'} after ${Math.round(timeoutMs / 1000)} s; follow it with \`biblio status ${videoId} --follow\``,
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
