import {
  chooseLadder,
  cutPoints,
  hlsArgs,
  keyframesFitSegments,
  forcedKeyframes,
  MAX_FORCED_LIST_CHARS,
  parseKeyframeLine,
  rungBitrate,
  type Rung,
} from '../../src/media/hls-ladder';

const sizes = (rungs: Rung[]) => rungs.map((r) => `${r.name} ${r.width}x${r.height}${r.copy ? ' copy' : ''}`);

describe('chooseLadder', () => {
  test('a 720p rendition gets 720p (copied) plus 480p, 360p and 240p, highest first', () => {
    expect(sizes(chooseLadder({ width: 1280, height: 720 }, { copyTop: true }))).toEqual([
      '720p 1280x720 copy',
      '480p 854x480',
      '360p 640x360',
      '240p 426x240',
    ]);
  });

  test('never upscales: a 360p source tops out at 360p', () => {
    const rungs = chooseLadder({ width: 640, height: 360 }, { copyTop: true });
    expect(sizes(rungs)).toEqual(['360p 640x360 copy', '240p 426x240']);
    expect(Math.max(...rungs.map((r) => r.height))).toBe(360);
  });

  test('a source below the lowest standard rung still gets one rung, at its own size', () => {
    expect(sizes(chooseLadder({ width: 320, height: 180 }, { copyTop: true }))).toEqual(['180p 320x180 copy']);
  });

  test('a 4K source is capped at 1080p and its top rung is re-encoded (sizes differ, so no copy)', () => {
    const rungs = chooseLadder({ width: 3840, height: 2160 }, { copyTop: true });
    expect(sizes(rungs)).toEqual(['1080p 1920x1080', '720p 1280x720', '480p 854x480', '360p 640x360', '240p 426x240']);
  });

  test('skips a standard rung too close to the top one (a 400p source gets no 360p)', () => {
    expect(sizes(chooseLadder({ width: 712, height: 400 }, { copyTop: true }))).toEqual(['400p 712x400 copy', '240p 428x240']);
  });

  test('odd sizes become even and the top rung is then re-encoded, not copied', () => {
    const rungs = chooseLadder({ width: 641, height: 361 }, { copyTop: true });
    expect(sizes(rungs)).toEqual(['360p 640x360', '240p 426x240']);
    for (const r of rungs) expect([r.width % 2, r.height % 2]).toEqual([0, 0]);
  });

  test('portrait: rungs are named and sized by the short side (the width)', () => {
    expect(sizes(chooseLadder({ width: 720, height: 1280 }, { copyTop: true }))).toEqual([
      '720p 720x1280 copy',
      '480p 480x854',
      '360p 360x640',
      '240p 240x426',
    ]);
  });

  test('copyTop false re-encodes every rung', () => {
    expect(chooseLadder({ width: 1280, height: 720 }, { copyTop: false }).every((r) => !r.copy)).toBe(true);
  });

  test('bandwidth caps grow with the picture and with the frame rate', () => {
    const rungs = chooseLadder({ width: 1280, height: 720 }, { copyTop: false });
    const caps = rungs.map((r) => r.maxBitrate);
    expect([...caps].sort((a, b) => b - a)).toEqual(caps);
    expect(rungBitrate(1280, 720)).toBe(2_760_000);
    expect(rungBitrate(1280, 720, 60)).toBe(5_530_000);
    expect(rungBitrate(160, 90)).toBe(200_000);
  });

  test('refuses a source without a size', () => {
    expect(() => chooseLadder({ width: 0, height: 0 }, { copyTop: true })).toThrow(RangeError);
  });
});

describe('segment cuts', () => {
  test('cuts at the first keyframe at or after each multiple of the segment length', () => {
    expect(cutPoints([0, 2, 4, 6, 8, 10, 12], 4)).toEqual([4, 8, 12]);
    // Irregular keyframes (a segmented transcode cut at source keyframes): one cut per keyframe.
    expect(cutPoints([0, 4.2, 7.9, 8.4, 13, 25], 4)).toEqual([4.2, 8.4, 13, 25]);
  });

  test('counts from the first keyframe, not from zero', () => {
    expect(cutPoints([0.08, 4.08, 8.08], 4)).toEqual([4.08, 8.08]);
  });

  test('no keyframes, no cuts', () => {
    expect(cutPoints([], 4)).toEqual([]);
  });

  test('forced keyframes: a list just before each cut, or an expression for the regular grid', () => {
    expect(forcedKeyframes([4, 8.04], 4)).toBe('3.999,8.039');
    expect(forcedKeyframes('every-segment', 6)).toBe('expr:gte(t,n_forced*6)');
    expect(forcedKeyframes([], 4)).toBe('');
    // Four hours of 1 s cuts would not fit one argument: the activity re-encodes on the grid instead.
    const fourHours = Array.from({ length: 4 * 3600 }, (_, i) => i + 1);
    expect(forcedKeyframes(fourHours, 1).length).toBeGreaterThan(MAX_FORCED_LIST_CHARS);
  });

  test('the rendition can be copied only when its keyframes make segments at most 1.5 × the target', () => {
    expect(keyframesFitSegments([0, 2, 4, 6, 8], 10, 4)).toBe(true);
    // One keyframe every 10 s (x264's default GOP) with 4 s segments: 10 s segments.
    expect(keyframesFitSegments([0, 10, 20], 30, 4)).toBe(false);
    // Keyframes stop early: the last segment would run 20 s.
    expect(keyframesFitSegments([0, 4, 8, 10], 30, 4)).toBe(false);
    expect(keyframesFitSegments([], 30, 4)).toBe(false);
  });

  test('reads keyframe times from ffprobe packet lines', () => {
    expect(parseKeyframeLine('4.000000,K_')).toBe(4);
    expect(parseKeyframeLine('4.040000,__')).toBeUndefined();
    expect(parseKeyframeLine('N/A,K_')).toBeUndefined();
    expect(parseKeyframeLine('')).toBeUndefined();
  });
});

describe('hlsArgs', () => {
  const rungs = chooseLadder({ width: 1280, height: 720 }, { copyTop: true }).slice(0, 3);
  const args = hlsArgs({
    input: '/m/v 1/rendition.mp4',
    outDir: '/m/v 1/.hls',
    segmentSec: 6,
    rungs,
    cuts: [6, 12.04],
    hasAudio: true,
    preset: 'veryfast',
    threads: 2,
  });
  const after = (flag: string) => args[args.indexOf(flag) + 1];

  test('writes fMP4 VOD HLS with a master playlist and one directory per rung', () => {
    expect(after('-f')).toBe('hls');
    expect(after('-hls_segment_type')).toBe('fmp4');
    expect(after('-hls_time')).toBe('6');
    expect(after('-hls_playlist_type')).toBe('vod');
    expect(after('-master_pl_name')).toBe('master.m3u8');
    expect(after('-var_stream_map')).toBe('v:0,a:0,name:720p v:1,a:1,name:480p v:2,a:2,name:360p');
    expect(after('-hls_segment_filename')).toBe('/m/v 1/.hls/%v/seg_%05d.m4s');
    expect(args.at(-1)).toBe('/m/v 1/.hls/%v/index.m3u8');
    expect(args[args.indexOf('-i') + 1]).toBe('/m/v 1/rendition.mp4');
  });

  test('copies the top rung and scales the others from one decode', () => {
    expect(after('-c:v:0')).toBe('copy');
    expect(after('-c:v:1')).toBe('libx264');
    expect(after('-filter_complex')).toBe(
      '[0:v:0]split=2[s1][s2];[s1]scale=854:480:flags=bicubic,format=yuv420p[v1];[s2]scale=640:360:flags=bicubic,format=yuv420p[v2]',
    );
    const maps = args.flatMap((a, i) => (a === '-map' ? [args[i + 1]] : []));
    expect(maps).toEqual(['0:v:0', '0:a:0', '[v1]', '0:a:0', '[v2]', '0:a:0']);
    expect(after('-c:a')).toBe('copy');
  });

  test('forces keyframes at the cuts in every re-encoded rung and nowhere else', () => {
    expect(after('-force_key_frames:v:1')).toBe('5.999,12.039');
    expect(after('-force_key_frames:v:2')).toBe('5.999,12.039');
    expect(after('-sc_threshold:v:1')).toBe('0');
    expect(args).not.toContain('-force_key_frames:v:0');
    expect(after('-maxrate:v:1')).toBe(String(rungs[1]?.maxBitrate));
    expect(after('-bufsize:v:1')).toBe(String(2 * (rungs[1]?.maxBitrate ?? 0)));
  });

  test("re-encoded rungs keep the rendition's frame times: no constant-rate resampling, its own time base", () => {
    const timed = hlsArgs({
      input: 'i',
      outDir: 'o',
      segmentSec: 4,
      rungs,
      cuts: [4],
      hasAudio: true,
      preset: 'ultrafast',
      threads: 1,
      videoTimeBase: '1/15360',
    });
    const at = (flag: string) => timed[timed.indexOf(flag) + 1];
    expect([at('-fps_mode:v:1'), at('-fps_mode:v:2')]).toEqual(['vfr', 'vfr']);
    expect([at('-enc_time_base:v:1'), at('-enc_time_base:v:2')]).toEqual(['1/15360', '1/15360']);
    // The copied rung is not encoded: nothing to time.
    expect(timed).not.toContain('-fps_mode:v:0');
    expect(args).not.toContain('-enc_time_base:v:1');
  });

  test('without audio, no audio maps and video-only variants', () => {
    const silent = hlsArgs({ input: 'i', outDir: 'o', segmentSec: 4, rungs, cuts: [], hasAudio: false, preset: 'ultrafast', threads: 1 });
    expect(silent).not.toContain('0:a:0');
    expect(silent).not.toContain('-c:a');
    expect(silent[silent.indexOf('-var_stream_map') + 1]).toBe('v:0,name:720p v:1,name:480p v:2,name:360p');
  });

  test('re-encoding every rung forces keyframes on the segment grid by expression (no list)', () => {
    const all = chooseLadder({ width: 1280, height: 720 }, { copyTop: false });
    const a = hlsArgs({
      input: 'i',
      outDir: 'o',
      segmentSec: 4,
      rungs: all,
      cuts: 'every-segment',
      hasAudio: true,
      preset: 'ultrafast',
      threads: 1,
    });
    expect(a[a.indexOf('-force_key_frames:v:0') + 1]).toBe('expr:gte(t,n_forced*4)');
    expect(a[a.indexOf('-c:v:0') + 1]).toBe('libx264');
  });

  test('a ladder of one copied rung needs no filter graph', () => {
    const one = chooseLadder({ width: 320, height: 180 }, { copyTop: true });
    const a = hlsArgs({ input: 'i', outDir: 'o', segmentSec: 4, rungs: one, cuts: [4], hasAudio: true, preset: 'ultrafast', threads: 1 });
    expect(a).not.toContain('-filter_complex');
    expect(a).not.toContain('libx264');
  });
});
