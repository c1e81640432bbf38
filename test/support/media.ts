import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { LocalObjectStorage } from '../../src/adapters/storage/local-storage';
import { makeSampleClip } from '../../src/media/sample-clip';

/** Small and short: two cores are shared with the Temporal server and the workers. */
export function makeTinyClip(file: string, seconds = 2): Promise<void> {
  return makeSampleClip(file, { seconds, width: 320, height: 240, audio: true });
}

/** A file with a video extension and no video inside. */
export function makeNotAVideo(file: string): Promise<void> {
  return writeFile(file, 'this is a text file pretending to be a video\n');
}

/**
 * The local object store under `root` (what the demo runs): the store media activities hand
 * their intermediates over through. Not served over HTTP here; nothing in these tests signs URLs.
 */
export function localStore(root: string): LocalObjectStorage {
  return new LocalObjectStorage({ root, secret: randomBytes(32), publicBaseUrl: 'http://127.0.0.1:1' });
}
