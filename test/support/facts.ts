import type { MediaFacts } from '../../src/workflows/contracts';

/** ffprobe facts of a typical 1080p upload, for analyzer tests. */
export const sampleFacts: MediaFacts = {
  durationSec: 12.5,
  width: 1920,
  height: 1080,
  videoCodec: 'h264',
  audioCodec: 'aac',
  frameRate: 30,
  sizeBytes: 1_000_000,
  container: 'mov,mp4,m4a,3gp,3g2,mj2',
};
