import type { Pool } from 'pg';
import type { ObjectStorage } from '../adapters/storage/port';
import { ChaptersRepo } from '../db/chapters-repo';
import { mediaPaths } from '../db/videos-list';
import { storyboardKey } from '../media/artifact-keys';
import { chaptersVtt } from '../media/chapters';
import { STORYBOARD_FILE, STORYBOARD_VTT, storyboardVttWithToken } from '../media/storyboard';
import { AppError } from './errors';

export const VTT_TYPE = 'text/vtt; charset=utf-8';

/** A storyboard file to send: the track's text (the API may add a token to it), or a sprite sheet in the store. */
export type StoryboardFile = { kind: 'track'; text: string } | { kind: 'object'; key: string; contentType: string };

/**
 * The timed tracks of a video beside its player: the storyboard (scrub previews: a WebVTT
 * thumbnail track and its sprite sheets, published by the media worker under
 * `media/<id>/storyboard/`) and the chapters (from the row). Served like the rest of the
 * published media: only while the row names a rendition and the video has not failed.
 */
export class VideoTracks {
  constructor(private readonly deps: { pool: Pool; storage: ObjectStorage }) {}

  get storage(): ObjectStorage {
    return this.deps.storage;
  }

  /** GET /videos/:id/storyboard/<name>: `storyboard.vtt` or one of the sprite sheets it names. */
  async storyboardFile(videoId: string, name: string, token?: string): Promise<StoryboardFile> {
    if (!STORYBOARD_FILE.test(name)) {
      throw new AppError('not-found', 'MediaNotFound', `video ${videoId} has no storyboard file ${JSON.stringify(name)}`, {
        videoId,
        hint: `Start from /videos/${videoId}/storyboard/${STORYBOARD_VTT}.`,
      });
    }
    await this.servable(videoId, 'storyboard');
    const key = storyboardKey(videoId, name);
    if (name !== STORYBOARD_VTT) return { kind: 'object', key, contentType: 'image/jpeg' };
    const text = (await this.deps.storage.getBytes(key))?.toString('utf8');
    if (text === undefined) {
      throw new AppError('not-found', 'MediaNotFound', `video ${videoId} has no storyboard`, {
        videoId,
        hint: 'Scrub previews are made after the transcode; videos processed before them, or with MEDIA_STORYBOARD=off, have none.',
      });
    }
    return { kind: 'track', text: token ? storyboardVttWithToken(text, token) : text };
  }

  /** GET /videos/:id/chapters.vtt: the WebVTT chapters track (404 when the video has none). */
  async chaptersVtt(videoId: string): Promise<string> {
    const row = await ChaptersRepo.read(this.deps.pool, videoId);
    if (!row) throw new AppError('not-found', 'VideoNotFound', `no video with id ${videoId}`, { videoId });
    if (row.status !== 'ready' || !row.chapters.length || !(row.durationSec && row.durationSec > 0)) {
      throw new AppError('not-found', 'MediaNotFound', `video ${videoId} has no chapters`, {
        videoId,
        hint: 'Chapters come from the AI analysis of a ready video; the offline analyzer finds none.',
      });
    }
    return chaptersVtt(row.chapters, row.durationSec);
  }

  private async servable(videoId: string, what: string): Promise<void> {
    const paths = await mediaPaths(this.deps.pool, videoId);
    if (!paths) throw new AppError('not-found', 'VideoNotFound', `no video with id ${videoId}`, { videoId });
    if (!paths.renditionPath || paths.status === 'failed') {
      throw new AppError('not-found', 'MediaNotFound', `video ${videoId} has no ${what}`, {
        videoId,
        hint: `Only a ready video has one; see GET /videos/${videoId} for its state.`,
      });
    }
  }
}
