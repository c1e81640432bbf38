import { extendSpan, packetTimes, ptsSpan, renditionVideoEnd, variantTimingProblems, videoTiming } from '../../src/media/hls-timing';

describe('the rendition video clock', () => {
  const probe = JSON.stringify({
    streams: [
      { index: 0, codec_type: 'video', time_base: '1/15360', start_time: '0.000000', duration: '4.991667' },
      { index: 1, codec_type: 'audio', time_base: '1/48000', start_time: '0.000000', duration: '5.013000' },
    ],
  });

  test('reads the video stream’s time base, start and own duration (not the audio’s)', () => {
    expect(videoTiming(probe, 0)).toEqual({ timeBase: '1/15360', startSec: 0, durationSec: 4.991667 });
  });

  test('says nothing it was not told', () => {
    expect(videoTiming('{"streams":[{"index":0,"codec_type":"video","time_base":"0/0"}]}', 0)).toEqual({
      timeBase: undefined,
      startSec: 0,
      durationSec: undefined,
    });
    expect(videoTiming('not json', 0)).toEqual({ timeBase: undefined, startSec: 0, durationSec: undefined });
  });

  test('the video ends at its declared duration, or a frame after its last packet', () => {
    const span = { first: 0, last: 4.983333 };
    expect(renditionVideoEnd({ timeBase: '1/15360', startSec: 0, durationSec: 4.991667 }, span, 120)).toBeCloseTo(4.991667);
    expect(renditionVideoEnd({ timeBase: undefined, startSec: 0, durationSec: undefined }, span, 60)).toBeCloseTo(5);
  });
});

describe('packet spans', () => {
  test('first and last presentation time, whatever the order (B-frames)', () => {
    expect(ptsSpan([0.0667, 0, 0.0333, Number.NaN])).toEqual({ first: 0, last: 0.0667 });
    expect(ptsSpan([])).toBeUndefined();
    let span = extendSpan(undefined, Number.NaN);
    for (const t of [0.1, 0, 0.2]) span = extendSpan(span, t);
    expect(span).toEqual({ first: 0, last: 0.2 });
  });

  test('video packet times from ffprobe JSON, other streams ignored', () => {
    const json = JSON.stringify({
      packets: [
        { stream_index: 0, pts_time: '0.000000' },
        { stream_index: 1, pts_time: '0.010000' },
        { stream_index: 0, pts_time: '0.041667' },
        { stream_index: 0 },
      ],
    });
    expect(packetTimes(json, 0)).toEqual([0, 0.041667]);
    expect(packetTimes('', 0)).toEqual([]);
  });
});

describe('variant timing against the rendition', () => {
  const rendition = { first: 0, last: 4.983 };
  const ok = {
    name: '360p',
    variantFirst: { first: 0.083, last: 3.9 },
    variantLast: { first: 4, last: 5.066 },
    rendition,
    playlistSec: 4.99,
    renditionSec: 4.99,
    toleranceSec: 0.5,
  };

  test('a variant that shows the same frames over the same time passes', () => {
    expect(variantTimingProblems(ok)).toEqual([]);
  });

  test('a variant presented late at both ends (reordering delay without an edit list) passes', () => {
    expect(variantTimingProblems({ ...ok, variantFirst: { first: 2, last: 5 }, variantLast: { first: 5, last: 6.983 } })).toEqual([]);
  });

  test('a variant that ends early or loses its first frames, or whose playlist does not add up, is named with its numbers', () => {
    expect(variantTimingProblems({ ...ok, variantFirst: { first: 0, last: 1 }, variantLast: { first: 0, last: 1.39 } })).toEqual([
      'HLS variant 360p shows its last frame 1.39 s after its first, the rendition 4.98 s',
    ]);
    expect(variantTimingProblems({ ...ok, variantFirst: { first: 2, last: 3 } })).toEqual([
      'HLS variant 360p shows its last frame 3.07 s after its first, the rendition 4.98 s',
    ]);
    expect(variantTimingProblems({ ...ok, playlistSec: 0.94 })).toEqual([
      "HLS variant 360p's playlist lasts 0.94 s, the rendition's video 4.99 s",
    ]);
  });
});
