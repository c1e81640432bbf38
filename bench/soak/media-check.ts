/**
 * The soak's "media verified" facts: for a ready video, the MP4 and every rung of its HLS ladder
 * fetched as a player would (through the API; on S3 the API redirects to a presigned MinIO URL,
 * which is followed) and ffprobed against the source: duration within tolerance, a video stream
 * of the rung's declared size, audio exactly when the source had it. The checks on what was
 * probed are pure (`mp4Problems`, `ladderProblems`), so they are unit-tested on made-up bad states.
 */
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { VideoStatus } from '../../src/app/status';
import { parseMasterPlaylist, parseMediaPlaylist } from '../../src/media/hls-playlist';
import type { TestApi } from '../../test/support/api';
import { probeJson } from '../../test/support/media-corpus';

/** What the source was: its length (undefined: not known) and whether it had an audio track. */
export interface SourceFacts {
  durationSec?: number;
  hasAudio: boolean;
}

/** One rung of a ladder as ffprobe saw it. */
export interface RungProbe {
  name: string;
  /** The size the master playlist declares (RESOLUTION), if it declares one. */
  declared?: { width: number; height: number };
  /** Sum of the variant playlist's EXTINF, as ffprobe reads the playlist. */
  playlistSec?: number;
  /** What the init segment and every media segment, joined as a player decodes them, last. */
  mediaSec?: number;
  video?: { width: number; height: number };
  audio: boolean;
  /** Fetching or probing failed: what went wrong. */
  error?: string;
}

/** Same tolerance as the MP4's: 10 % or 0.5 s, whichever is larger. */
export function durationOff(sec: number | undefined, sourceSec: number | undefined): boolean {
  if (sourceSec === undefined || !(sourceSec > 0)) return false;
  return !(sec !== undefined && Math.abs(sec - sourceSec) <= Math.max(0.5, sourceSec * 0.1));
}

/** What is wrong with an MP4 as probed, one sentence each (empty: nothing). */
export function mp4Problems(p: { durationSec?: number; video: boolean; audio: boolean }, src: SourceFacts): string[] {
  const out: string[] = [];
  if (!p.video) out.push('the MP4 has no video stream');
  if (durationOff(p.durationSec, src.durationSec)) out.push(`MP4 lasts ${p.durationSec} s, its source ${src.durationSec} s`);
  return out;
}

/** What is wrong with a ladder as probed, one sentence each naming the rung (empty: nothing). */
export function ladderProblems(rungs: readonly RungProbe[], src: SourceFacts): string[] {
  if (rungs.length === 0) return ['the HLS master lists no rung'];
  const out: string[] = [];
  for (const r of rungs) {
    const at = `HLS rung ${r.name}`;
    if (r.error) {
      out.push(`${at}: ${r.error}`);
      continue;
    }
    if (!r.video) out.push(`${at} has no video stream`);
    else if (r.declared && (r.video.height !== r.declared.height || r.video.width !== r.declared.width))
      out.push(`${at} is ${r.video.width}x${r.video.height}, the master declares ${r.declared.width}x${r.declared.height}`);
    if (durationOff(r.playlistSec, src.durationSec)) out.push(`${at}'s playlist lasts ${r.playlistSec} s, its source ${src.durationSec} s`);
    if (durationOff(r.mediaSec, src.durationSec)) out.push(`${at}'s segments last ${r.mediaSec} s, its source ${src.durationSec} s`);
    if (r.audio && !src.hasAudio) out.push(`${at} has audio, its source has none`);
    if (!r.audio && src.hasAudio) out.push(`${at} has no audio, its source has`);
  }
  return out;
}

/** GET through the API with its key; a redirect (S3: a presigned MinIO URL) is followed once. */
export async function fetchPublished(api: TestApi, url: string): Promise<{ status: number; body: Buffer }> {
  const res = await api.app.inject({ method: 'GET', url });
  const location = res.headers.location;
  if (res.statusCode >= 300 && res.statusCode < 400 && typeof location === 'string') {
    const followed = await fetch(location);
    return { status: followed.status, body: Buffer.from(await followed.arrayBuffer()) };
  }
  return { status: res.statusCode, body: res.rawPayload };
}

type Probed = Awaited<ReturnType<typeof probeJson>>;
const streamOf = (p: Probed, type: string) => p.streams.find((x) => x['codec_type'] === type);
const seconds = (x: unknown): number | undefined => (Number.isFinite(Number(x)) && x !== undefined ? Number(x) : undefined);

/** The MP4 and the whole ladder of a ready video, fetched into `dir` and probed. */
export async function verifyMedia(api: TestApi, s: VideoStatus, src: SourceFacts, dir: string): Promise<{ ok: boolean; detail?: string }> {
  const link = s.links.rendition;
  if (!link) return { ok: false, detail: 'ready without a rendition link' };
  const mp4 = await fetchPublished(api, link);
  if (mp4.status !== 200) return { ok: false, detail: `rendition answered ${mp4.status}` };
  const own = path.join(dir, s.videoId);
  await mkdir(own, { recursive: true });
  const file = path.join(own, 'rendition.mp4');
  await writeFile(file, mp4.body);
  const probe = await probeJson(file).catch((err: Error) => ({ error: err.message }));
  if ('error' in probe) return { ok: false, detail: `ffprobe: ${probe.error}` };
  const problems = mp4Problems(
    { durationSec: seconds(probe.format['duration']), video: !!streamOf(probe, 'video'), audio: !!streamOf(probe, 'audio') },
    src,
  );
  if (!s.links.hls) problems.push('ready without an HLS link');
  else problems.push(...ladderProblems(await probeLadder(api, s.links.hls, own), src));
  return problems.length ? { ok: false, detail: problems.join('; ') } : { ok: true };
}

/** Every rung the master names: its playlist, init and segments fetched into `dir/<rung>/`, then ffprobed. */
export async function probeLadder(api: TestApi, masterUrl: string, dir: string): Promise<RungProbe[]> {
  const master = await fetchPublished(api, masterUrl);
  if (master.status !== 200) return [{ name: 'master.m3u8', audio: false, error: `the master answered ${master.status}` }];
  const base = new URL(masterUrl, 'http://api.invalid');
  const rungs: RungProbe[] = [];
  for (const v of parseMasterPlaylist(master.body.toString('utf8')).variants) {
    const name = v.uri.split('/')[0] ?? v.uri;
    const m = /^(\d+)x(\d+)$/.exec(v.attrs.RESOLUTION ?? '');
    const declared = m ? { width: Number(m[1]), height: Number(m[2]) } : undefined;
    rungs.push(await probeRung(api, new URL(v.uri, base), path.join(dir, name.replace(/[^\w.-]/g, '_')), name, declared));
  }
  return rungs;
}

async function probeRung(api: TestApi, playlistUrl: URL, dir: string, name: string, declared: RungProbe['declared']): Promise<RungProbe> {
  const rung: RungProbe = { name, audio: false, ...(declared ? { declared } : {}) };
  const fail = (error: string): RungProbe => ({ ...rung, error });
  const playlist = await fetchPublished(api, playlistUrl.pathname + playlistUrl.search);
  if (playlist.status !== 200) return fail(`its playlist answered ${playlist.status}`);
  const text = playlist.body.toString('utf8');
  const parsed = parseMediaPlaylist(text);
  if (!parsed.map || parsed.segments.length === 0) return fail('its playlist names no init segment or no media segment');
  await mkdir(dir, { recursive: true });
  // Each file under its own base name; the local playlist names those.
  const local = (uri: string) => path.posix.basename(new URL(uri, playlistUrl).pathname);
  // The init and every segment joined, as a player decodes them (appended: a long ladder is not held in memory).
  const joined = path.join(dir, 'joined.mp4');
  await rm(joined, { force: true });
  for (const uri of [parsed.map, ...parsed.segments.map((x) => x.uri)]) {
    const got = await fetchPublished(api, new URL(uri, playlistUrl).pathname);
    if (got.status !== 200) return fail(`${local(uri)} answered ${got.status}`);
    if (got.body.length === 0) return fail(`${local(uri)} is empty`);
    await writeFile(path.join(dir, local(uri)), got.body);
    await appendFile(joined, got.body);
  }
  const localText = text
    .split('\n')
    .map((l) => (l.startsWith('#EXT-X-MAP:') ? `#EXT-X-MAP:URI="${local(parsed.map!)}"` : l && !l.startsWith('#') ? local(l.trim()) : l))
    .join('\n');
  await writeFile(path.join(dir, 'index.m3u8'), localText);
  try {
    const asPlaylist = await probeJson(path.join(dir, 'index.m3u8'));
    const asMedia = await probeJson(joined);
    const video = streamOf(asPlaylist, 'video') ?? streamOf(asMedia, 'video');
    return {
      ...rung,
      playlistSec: seconds(asPlaylist.format['duration']),
      mediaSec: seconds(asMedia.format['duration']),
      audio: !!(streamOf(asPlaylist, 'audio') ?? streamOf(asMedia, 'audio')),
      ...(video ? { video: { width: Number(video['width']), height: Number(video['height']) } } : {}),
    };
  } catch (err) {
    return fail(`ffprobe: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
