import { runProcess, lastErrorLine } from './run-process';

export interface SampleClipOptions {
  seconds: number;
  width: number;
  height: number;
  audio: boolean;
  ffmpegPath?: string;
  /** 4:2:0 by default; 'yuv444p' allows odd sizes (an awkward upload to test against). */
  pixelFormat?: 'yuv420p' | 'yuv444p';
}

/** Generates a test-pattern clip (with a tone) with ffmpeg's lavfi sources: no media files in git. */
export async function makeSampleClip(output: string, o: SampleClipOptions): Promise<void> {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-y',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    // testsrc2 rounds sizes to even; testsrc keeps odd ones.
    `${o.pixelFormat === 'yuv444p' ? 'testsrc' : 'testsrc2'}=size=${o.width}x${o.height}:rate=25:duration=${o.seconds}`,
    ...(o.audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${o.seconds}`] : []),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    o.pixelFormat ?? 'yuv420p',
    '-threads',
    '1',
    ...(o.audio ? ['-c:a', 'aac', '-shortest'] : []),
    output,
  ];
  const res = await runProcess(o.ffmpegPath ?? 'ffmpeg', args);
  if (res.code !== 0) throw new Error(`could not generate a sample clip: ${lastErrorLine(res.stderrTail)}`);
}
