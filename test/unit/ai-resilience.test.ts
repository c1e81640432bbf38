import { audioArgs, keyframeArgs, parseFrameTimes, parseMaxVolume, segmentSeconds } from '../../src/activities/media/analysis-inputs';
import { fullJitterDelayMs } from '../../src/adapters/analyzer/backoff';
import { parseResetDuration } from '../../src/adapters/analyzer/rate-limit-gate';

describe('full-jitter backoff', () => {
  const policy = { baseMs: 1_000, capMs: 30_000 };

  it('draws uniformly in [0, base·2^(attempt-1)], capped', () => {
    expect(fullJitterDelayMs(1, policy, undefined, () => 0)).toBe(1);
    expect(fullJitterDelayMs(1, policy, undefined, () => 0.999)).toBe(999);
    expect(fullJitterDelayMs(4, policy, undefined, () => 0.5)).toBe(4_000);
    expect(fullJitterDelayMs(20, policy, undefined, () => 0.999)).toBe(29_970);
  });

  it('is never sooner than Retry-After, and spreads callers told the same moment over [RA, 2·RA]', () => {
    expect(fullJitterDelayMs(1, policy, 5_000, () => 0)).toBe(5_000);
    expect(fullJitterDelayMs(1, policy, 5_000, () => 0.999)).toBe(9_995);
    const draws = Array.from({ length: 1000 }, () => fullJitterDelayMs(1, policy, 2_000));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(2_000);
    // No second holds most of them: the herd is spread.
    const perSecond = new Map<number, number>();
    for (const d of draws) perSecond.set(Math.floor(d / 1000), (perSecond.get(Math.floor(d / 1000)) ?? 0) + 1);
    expect(Math.max(...perSecond.values())).toBeLessThan(700);
  });
});

describe('rate-limit headers', () => {
  it('parses OpenAI reset durations', () => {
    expect(parseResetDuration('59.99s')).toBeCloseTo(59_990);
    expect(parseResetDuration('1ms')).toBe(1);
    expect(parseResetDuration('6m0s')).toBe(360_000);
    expect(parseResetDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseResetDuration('2')).toBe(2_000);
    expect(parseResetDuration('soon')).toBeUndefined();
    expect(parseResetDuration(null)).toBeUndefined();
  });
});

describe('analysis inputs (ffmpeg arguments)', () => {
  it('picks scene changes with an even-spacing fallback, bounded in count and size', () => {
    const args = keyframeArgs({ input: 'in.mp4', outPattern: 'kf-%02d.jpg', durationSec: 60, max: 6, maxSide: 512, threads: 1 });
    const vf = args[args.indexOf('-vf') + 1]!;
    expect(vf).toContain('gt(scene\\,0.3)');
    expect(vf).toContain('gte(t-prev_selected_t\\,10.000)');
    expect(vf).toContain('min(512,iw)');
    expect(args[args.indexOf('-frames:v') + 1]).toBe('6');
  });

  it('cuts audio into chunks under the size limit', () => {
    expect(segmentSeconds(25 * 1024 ** 2)).toBe(5898);
    const args = audioArgs({ input: 'in.mp4', outPattern: 'a-%03d.mp3', segmentSec: 10, threads: 1 });
    expect(args.join(' ')).toContain('-ac 1 -ar 16000 -c:a libmp3lame -b:a 32000 -f segment -segment_time 10');
  });

  it('reads frame times and the audio peak from ffmpeg output', () => {
    expect(parseFrameTimes('frame:0    pts:0       pts_time:0\nlavfi.scene_score=0\nframe:1 pts:12800 pts_time:1.5\n')).toEqual([0, 1.5]);
    expect(parseMaxVolume('[Parsed_volumedetect_0 @ 0x1] max_volume: -91.0 dB')).toBe(-91);
    expect(parseMaxVolume('max_volume: -inf dB')).toBe(-Infinity);
    expect(parseMaxVolume('nothing')).toBeUndefined();
  });
});
