import type { VideoStatus } from '../../src/app/status';
import { StepProgress, stepPercent } from '../../src/cli/progress';

/** The fields progress reads; the rest of the status document does not matter here. */
function status(o: Partial<VideoStatus>): VideoStatus {
  return {
    status: 'processing',
    step: 'transcode',
    steps: {},
    progress: null,
    segments: null,
    waitingFor: null,
    lastError: null,
    attempt: 1,
    ...o,
  } as VideoStatus;
}

describe('CLI progress of a segmented transcode', () => {
  test('counts segments done while they encode, not the percent of the one segment in flight', () => {
    const s = status({ segments: { done: 12, count: 60 }, progress: { step: 'transcode', phase: 'encode', percent: 87 } });
    expect(stepPercent(s)).toBe(20);
    // Once every segment is in, the join and HLS phases report their own percent.
    expect(stepPercent(status({ segments: { done: 60, count: 60 }, progress: { step: 'transcode', phase: 'hls', percent: 40 } }))).toBe(40);
    expect(stepPercent(status({ progress: { step: 'transcode', phase: 'encode', percent: 33 } }))).toBe(33);
  });

  test('a log line per change says how many segments are done, and never jumps back to 0 between segments', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (t: string) => lines.push(t.trim()) } as unknown as NodeJS.WriteStream;
    const progress = new StepProgress(stream);
    for (const [done, percent] of [
      [3, 90],
      [4, 0],
      [4, 50],
      [5, 0],
    ] as const) {
      progress.update(status({ segments: { done, count: 10 }, progress: { step: 'transcode', phase: 'encode', percent } }));
    }
    expect(lines).toEqual([
      'processing transcode 30% segments 3/10',
      'processing transcode 40% segments 4/10',
      'processing transcode 50% segments 5/10',
    ]);
  });

  test('after the segments, a log line names the phase that counts from 0 again', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (t: string) => lines.push(t.trim()) } as unknown as NodeJS.WriteStream;
    const progress = new StepProgress(stream);
    progress.update(status({ segments: { done: 9, count: 10 }, progress: { step: 'transcode', phase: 'encode', percent: 80 } }));
    progress.update(status({ segments: { done: 10, count: 10 }, progress: { step: 'transcode', phase: 'hls', percent: 0 } }));
    progress.update(status({ segments: { done: 10, count: 10 }, progress: { step: 'transcode', phase: 'storyboard', percent: 40 } }));
    expect(lines).toEqual([
      'processing transcode 90% segments 9/10',
      'processing transcode (hls) 0%',
      'processing transcode (storyboard) 40%',
    ]);
  });
});
