import { InvalidKeyError, isVideoContentType, validateKey, type ObjectStorage } from '../adapters/storage/port';
import { assertUrlAllowed, SourceFetchError, SsrfBlockedError, type SsrfPolicy } from '../net/ssrf-guard';
import { AppError } from './errors';

/** URL sources: refuse private/loopback/metadata targets at the edge (the worker checks again at connect time). */
export async function checkUrlSource(url: string, ssrf: SsrfPolicy, videoId: string | undefined): Promise<void> {
  try {
    await assertUrlAllowed(url, ssrf);
  } catch (err) {
    if (err instanceof SsrfBlockedError) {
      throw new AppError('invalid', 'SourceForbidden', err.message, { videoId, hint: 'Use a publicly reachable http(s) URL.' });
    }
    if (err instanceof SourceFetchError) {
      throw new AppError('unprocessable', 'SourceNotFound', err.message, { videoId, hint: 'Check the URL host name.' });
    }
    throw err;
  }
}

/** Upload keys: valid, and under uploads/ (only keys POST /uploads returned are ever accepted). */
export function checkUploadKey(key: string, videoId: string | undefined): void {
  try {
    validateKey(key);
  } catch (err) {
    if (err instanceof InvalidKeyError)
      throw new AppError('invalid', 'InvalidKey', err.message, { videoId, hint: 'Pass the key POST /uploads returned.' });
    throw err;
  }
  if (!key.startsWith('uploads/')) {
    throw new AppError('invalid', 'InvalidKey', 'upload sources must be keys returned by POST /uploads', {
      videoId,
      hint: 'Call POST /uploads first.',
    });
  }
}

/** Upload sources: a valid key of an object that was uploaded (PUT done) with a video content type. */
export async function checkUploadSource(key: string, storage: ObjectStorage | undefined, videoId: string | undefined): Promise<void> {
  checkUploadKey(key, videoId);
  const info = storage ? await storage.head(key) : undefined;
  if (!info) {
    throw new AppError('unprocessable', 'SourceNotFound', `nothing was uploaded to ${key} yet`, {
      videoId,
      hint: 'PUT the file to the upload URL first.',
    });
  }
  if (!isVideoContentType(info.contentType ?? '')) {
    throw new AppError('unsupported-type', 'UnsupportedContentType', `the object at ${key} is not a video`, {
      videoId,
      hint: 'Upload a video file.',
    });
  }
}
