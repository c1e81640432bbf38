import {
  audioChunkArgs,
  keyframeSampleArgs,
  MIN_KEYFRAME_SPACING_SEC,
  parseFrameTimes,
  parseMaxVolume,
  pickInWindow,
  sampleWindows,
  segmentSeconds,
  WINDOW_SCAN_SEC,
} from '../../src/media/analysis-args';

describe('keyframe windows', () => {
  it('spreads one window per keyframe evenly over the whole video', () => {
    expect(sampleWindows(60, 6).map((w) => w.startSec)).toEqual([0, 10, 20, 30, 40, 50]);
    const fourHours = sampleWindows(4 * 3600, 6);
    expect(fourHours.map((w) => w.startSec)).toEqual([0, 2400, 4800, 7200, 9600, 12000]);
  });

  it('decodes the same bounded amount whatever the length', () => {
    for (const duration of [60, 600, 3600, 4 * 3600]) {
      const scanned = sampleWindows(duration, 6).reduce((sum, w) => sum + w.scanSec, 0);
      expect(scanned).toBeLessThanOrEqual(6 * WINDOW_SCAN_SEC);
    }
  });

  it('gives a short clip fewer windows, a second apart, each scanning only its own part', () => {
    const windows = sampleWindows(2.5, 6);
    expect(windows).toEqual([
      { startSec: 0, scanSec: 1.25 },
      { startSec: 1.25, scanSec: 1.25 },
    ]);
    for (let i = 1; i < windows.length; i++)
      expect(windows[i]!.startSec - windows[i - 1]!.startSec).toBeGreaterThanOrEqual(MIN_KEYFRAME_SPACING_SEC);
    expect(sampleWindows(0.6, 6)).toEqual([{ startSec: 0, scanSec: 0.6 }]);
  });

  it('still samples the start of a video whose duration is unknown', () => {
    expect(sampleWindows(Number.NaN, 6)).toEqual([{ startSec: 0, scanSec: WINDOW_SCAN_SEC }]);
  });
});

describe('keyframe sample arguments', () => {
  const args = keyframeSampleArgs({
    input: 'in.mp4',
    window: { startSec: 120, scanSec: 4 },
    outPattern: 'w-%d.jpg',
    maxSide: 512,
    threads: 0,
  });

  it('seeks on the input and reads a bounded span, with the transcode’s thread setting', () => {
    const i = args.indexOf('-i');
    expect(args.slice(i - 6, i)).toEqual(['-threads', '0', '-ss', '120.000', '-t', '4.000']);
  });

  it('writes the first frame and the first scene change, downscaled, with their times on stdout', () => {
    const vf = args[args.indexOf('-vf') + 1]!;
    expect(vf).toContain('min(512,iw)');
    expect(vf).toContain("select='eq(n\\,0)+gt(scene\\,0.3)'");
    expect(vf.endsWith('metadata=mode=print:file=-')).toBe(true);
    expect(args[args.indexOf('-frames:v') + 1]).toBe('2');
    expect(args).toContain('-progress');
  });

  it('does not seek for the first window', () => {
    const first = keyframeSampleArgs({
      input: 'in.mp4',
      window: { startSec: 0, scanSec: 4 },
      outPattern: 'w-%d.jpg',
      maxSide: 512,
      threads: 1,
    });
    expect(first).not.toContain('-ss');
  });
});

describe('audio chunk arguments', () => {
  it('cuts audio into chunks under the size limit and measures the peak in the same pass', () => {
    expect(segmentSeconds(25 * 1024 ** 2)).toBe(5898);
    const args = audioChunkArgs({ input: 'in.mp4', outPattern: 'a-%03d.mp3', segmentSec: 10, threads: 0 });
    const line = args.join(' ');
    expect(line).toContain('-af volumedetect -ac 1 -ar 16000 -c:a libmp3lame -b:a 32000 -f segment -segment_time 10');
    // volumedetect reports at info level, and progress feeds the stall watchdog.
    expect(line).toContain('-v info');
    expect(line).toContain('-progress pipe:1');
  });
});

describe('parsing what ffmpeg prints', () => {
  it('reads frame times and the audio peak', () => {
    expect(parseFrameTimes('frame:0    pts:0       pts_time:0\nlavfi.scene_score=0\nframe:1 pts:12800 pts_time:1.5\n')).toEqual([0, 1.5]);
    // -progress lines share stdout and are not frame times.
    expect(parseFrameTimes('out_time_us=33333\nout_time=00:00:00.033333\nframe:0 pts:0 pts_time:0\n')).toEqual([0]);
    expect(parseMaxVolume('[Parsed_volumedetect_0 @ 0x1] max_volume: -91.0 dB')).toBe(-91);
    expect(parseMaxVolume('max_volume: -inf dB')).toBe(-Infinity);
    expect(parseMaxVolume('nothing')).toBeUndefined();
  });

  it('keeps a window’s scene change over its first frame, and its first frame without one', () => {
    expect(pickInWindow([0, 2.4])).toEqual({ index: 1, offsetSec: 2.4 });
    expect(pickInWindow([0.033])).toEqual({ index: 0, offsetSec: 0.033 });
    expect(pickInWindow([])).toBeUndefined();
  });
});
