import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import { ErrorType, failure } from '../../errors';
import { renditionKey } from '../../media/artifact-keys';

export interface RenditionSource {
  videoId: string;
  /** What the workflow carries: a local path on the host that encoded it, or an `s3://` location. */
  renditionPath: string;
  /** The media queue's published copies on this host. */
  mediaDir?: string;
  /** The data plane: the published object, fetched on a local miss. */
  storage?: ObjectStorage;
}

/**
 * A local file of the published rendition for an activity that reads it (analysis inputs,
 * storyboard): the path the workflow carries when this host has it, the media dir's copy, else
 * the object fetched to `scratch` (hosts share only the store). `what` names the reader in a
 * StorageUnavailable failure.
 */
export async function localRendition(src: RenditionSource, scratch: string, signal: AbortSignal, what: string): Promise<string> {
  const candidates = [src.renditionPath];
  if (src.mediaDir) candidates.push(path.join(src.mediaDir, src.videoId, 'rendition.mp4'));
  for (const file of candidates) {
    if (!path.isAbsolute(file)) continue; // an s3:// location, not a file of this host
    const here = await access(file).then(
      () => true,
      () => false,
    );
    if (here) return file;
  }
  if (src.storage) {
    const storage = src.storage;
    await mkdir(path.dirname(scratch), { recursive: true });
    const found = await storage.getFile(renditionKey(src.videoId), scratch, { signal }).catch((err: unknown) => {
      if (err instanceof Error && err.name === 'AbortError') throw err;
      if ((err as { type?: string }).type !== undefined) throw err; // typed already (with its retry pause)
      throw failure(ErrorType.StorageUnavailable, `object storage failed for ${what} of video ${src.videoId}: ${(err as Error).message}`);
    });
    if (found) return scratch;
  }
  throw failure(ErrorType.TranscodeFailed, `the rendition of video ${src.videoId} is neither on this host nor in the store`);
}
