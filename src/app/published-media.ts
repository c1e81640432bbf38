import path from 'node:path';
import type { Pool } from 'pg';
import type { ObjectStorage } from '../adapters/storage/port';
import { mediaPaths } from '../db/videos-list';
import { hlsKey, renditionKey, thumbnailKey } from '../media/artifact-keys';
import { AppError } from './errors';

/**
 * The only names a ladder holds (src/media/hls-ladder.ts): the master playlist, and per rung
 * (`720p/`) its playlist, init segment and media segments. Matching the whole path against
 * this list is the traversal guard: no `..`, no other directory, no other object is read.
 */
const HLS_FILE = /^(?:master\.m3u8|\d{2,4}p\/(?:index\.m3u8|init(?:_\d{1,2})?\.mp4|seg_\d{1,6}\.m4s))$/;

export const HLS_PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';

const HLS_CONTENT_TYPES: Record<string, string> = {
  '.m3u8': HLS_PLAYLIST_TYPE,
  '.mp4': 'video/mp4',
  // RFC 8216 / ISO BMFF: a media segment that is not a whole file.
  '.m4s': 'video/iso.segment',
};

/** A published object to send, or (HLS playlists) its text, which the API may rewrite before sending. */
export type PublishedFile = { kind: 'object'; key: string; contentType: string } | { kind: 'playlist'; text: string };

/**
 * Where a video's published media is in object storage (the MP4, its thumbnail, the HLS ladder:
 * src/media/artifact-keys.ts), refused unless the row says it is served. The key comes from the
 * video id alone: the row's stored path only says whether there is something to serve (it names
 * a worker's disk or an `s3://` location, neither of which the API reads).
 */
export class PublishedMedia {
  constructor(private readonly deps: { pool: Pool; storage: ObjectStorage }) {}

  get storage(): ObjectStorage {
    return this.deps.storage;
  }

  /** GET /videos/:id/rendition.mp4 and /thumbnail.jpg. */
  async file(videoId: string, which: 'rendition' | 'thumbnail'): Promise<{ key: string; contentType: string }> {
    const paths = await this.paths(videoId);
    const file = which === 'rendition' ? paths.renditionPath : paths.thumbnailPath;
    const name = which === 'rendition' ? 'rendition.mp4' : 'thumbnail.jpg';
    if (!file || paths.status === 'failed') {
      throw new AppError('not-found', 'MediaNotFound', `video ${videoId} has no ${name} yet`, {
        videoId,
        hint: 'Wait until the video is ready.',
      });
    }
    return which === 'rendition'
      ? { key: renditionKey(videoId), contentType: 'video/mp4' }
      : { key: thumbnailKey(videoId), contentType: 'image/jpeg' };
  }

  /** GET /videos/:id/hls/<name>. */
  async hlsFile(videoId: string, name: string): Promise<PublishedFile> {
    if (!HLS_FILE.test(name)) {
      throw new AppError('not-found', 'MediaNotFound', `video ${videoId} has no HLS file ${JSON.stringify(name)}`, {
        videoId,
        hint: `Start from /videos/${videoId}/hls/master.m3u8.`,
      });
    }
    const paths = await this.paths(videoId);
    // The ladder is served exactly when the MP4 is: a failed video's objects may still be
    // in the store until retention removes them, but its row names no rendition, so neither is served.
    if (!paths.renditionPath || paths.status === 'failed') {
      throw new AppError('not-found', 'MediaNotFound', `video ${videoId} has no HLS ladder`, {
        videoId,
        hint: 'Only a ready video is streamed; see GET /videos/' + videoId + ' for its state.',
      });
    }
    const key = hlsKey(videoId, name);
    const contentType = HLS_CONTENT_TYPES[path.posix.extname(name)] ?? 'application/octet-stream';
    if (contentType !== HLS_PLAYLIST_TYPE) return { kind: 'object', key, contentType };
    // Playlists are small and always sent by the API: their URIs stay relative to this route, so
    // each segment request comes back here (and, on S3, gets a fresh short-lived redirect).
    const text = (await this.deps.storage.getBytes(key))?.toString('utf8');
    if (text === undefined) {
      throw new AppError('not-found', 'MediaNotFound', `video ${videoId} has no HLS ladder (yet)`, {
        videoId,
        hint: 'Wait until the video is ready; videos processed before HLS was added have only the MP4.',
      });
    }
    return { kind: 'playlist', text };
  }

  private async paths(videoId: string) {
    const paths = await mediaPaths(this.deps.pool, videoId);
    if (!paths) throw new AppError('not-found', 'VideoNotFound', `no video with id ${videoId}`, { videoId });
    return paths;
  }
}
