import { writeFile } from 'node:fs/promises';
import { makeSampleClip } from '../../src/media/sample-clip';

/** Small and short: two cores are shared with the Temporal server and the workers. */
export function makeTinyClip(file: string, seconds = 2): Promise<void> {
  return makeSampleClip(file, { seconds, width: 320, height: 240, audio: true });
}

/** A file with a video extension and no video inside. */
export function makeNotAVideo(file: string): Promise<void> {
  return writeFile(file, 'this is a text file pretending to be a video\n');
}
