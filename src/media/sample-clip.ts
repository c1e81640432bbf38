import { sampleClipArgs, type SampleClipOptions } from './ffmpeg-args';
import { lastErrorLine, runProcess } from './run-process';

export type { SampleClipOptions } from './ffmpeg-args';

/** Generates a test-pattern clip (with a tone) with ffmpeg's lavfi sources: no media files in git. */
export async function makeSampleClip(output: string, clip: SampleClipOptions): Promise<void> {
  const res = await runProcess(clip.ffmpegPath ?? 'ffmpeg', sampleClipArgs(output, clip));
  if (res.code !== 0) throw new Error(`could not generate a sample clip: ${lastErrorLine(res.stderrTail)}`);
}
