import { renderWebVtt, subtitlesPlaylist, vttTimestamp, withSubtitles } from '../../src/media/captions';
import { chunkSegments, normalizeLanguage, textSearchConfig } from '../../src/media/transcript';
import { withAccessToken } from '../../src/media/hls-playlist';

// Issue 30: the timed transcript's pure parts — offsets across audio chunks, languages, WebVTT
// and the HLS subtitles rendition.

describe('chunk offsets', () => {
  it('puts a segment of a later chunk at its absolute second (chunk start + time in the chunk)', () => {
    const segs = chunkSegments(
      { startSec: 9, durationSec: 9 },
      {
        text: 'ignored when segments exist',
        segments: [
          { start: 1.5, end: 3.25, text: ' A red car ' },
          { start: 5.5, end: 7, text: 'drives along the beach.' },
        ],
      },
    );
    expect(segs).toEqual([
      { startSec: 10.5, endSec: 12.25, text: 'A red car' },
      { startSec: 14.5, endSec: 16, text: 'drives along the beach.' },
    ]);
  });

  it('keeps the first chunk at its own times', () => {
    expect(chunkSegments({ startSec: 0, durationSec: 9 }, { text: 'x', segments: [{ start: 1, end: 2, text: 'hello' }] })).toEqual([
      { startSec: 1, endSec: 2, text: 'hello' },
    ]);
  });

  it('gives a plain {text} answer one segment spanning its chunk', () => {
    expect(chunkSegments({ startSec: 18, durationSec: 6 }, { text: '  thank   you  ' })).toEqual([
      { startSec: 18, endSec: 24, text: 'thank you' },
    ]);
  });

  it('gives nothing for silence (empty text, empty segments)', () => {
    expect(chunkSegments({ startSec: 18, durationSec: 6 }, { text: '' })).toEqual([]);
    expect(chunkSegments({ startSec: 0, durationSec: 6 }, { text: '', segments: [{ start: 0, end: 1, text: ' ' }] })).toEqual([]);
  });

  it('clamps times a model reports past the end of its chunk, and rounds to milliseconds', () => {
    const [s] = chunkSegments({ startSec: 9, durationSec: 9 }, { text: 't', segments: [{ start: 8.1234567, end: 9.6, text: 'late' }] });
    expect(s).toEqual({ startSec: 17.123, endSec: 18, text: 'late' });
    const [neg] = chunkSegments({ startSec: 9, durationSec: 9 }, { text: 't', segments: [{ start: -0.2, end: 0.5, text: 'early' }] });
    expect(neg).toEqual({ startSec: 9, endSec: 9.5, text: 'early' });
  });
});

describe('languages', () => {
  it.each([
    ['english', 'en'],
    ['English', 'en'],
    ['en', 'en'],
    ['en-US', 'en'],
    ['german', 'de'],
    ['fr', 'fr'],
    ['spanish', 'es'],
    ['klingon', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%s → %s', (raw, code) => {
    expect(normalizeLanguage(raw)).toBe(code);
  });

  it.each([
    ['en', 'english'],
    ['de', 'german'],
    ['fr', 'french'],
    ['es', 'spanish'],
    ['ja', 'simple'],
    [undefined, 'simple'],
  ])('text search configuration of %s is %s', (code, config) => {
    expect(textSearchConfig(code)).toBe(config);
  });
});

describe('WebVTT', () => {
  it('writes hours, minutes, seconds and milliseconds', () => {
    expect(vttTimestamp(0)).toBe('00:00:00.000');
    expect(vttTimestamp(10.5)).toBe('00:00:10.500');
    expect(vttTimestamp(3723.0456)).toBe('01:02:03.046');
  });

  it('renders one cue per segment, escaping markup and arrows in the text', () => {
    const vtt = renderWebVtt([
      { startSec: 1, endSec: 3.2, text: 'The red car' },
      { startSec: 10.5, endSec: 10.5, text: 'a <b>bold</b> & x --> y' },
    ]);
    expect(vtt).toBe(
      [
        'WEBVTT',
        '',
        '1',
        '00:00:01.000 --> 00:00:03.200',
        'The red car',
        '',
        '2',
        '00:00:10.500 --> 00:00:11.000',
        'a &lt;b&gt;bold&lt;/b&gt; &amp; x --&gt; y',
        '',
      ].join('\n'),
    );
  });
});

describe('HLS subtitles', () => {
  const master = [
    '#EXTM3U',
    '#EXT-X-VERSION:7',
    '#EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x240,CODECS="avc1.42c00d,mp4a.40.2"',
    '240p/index.m3u8',
    '#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x480,CODECS="avc1.42c01e,mp4a.40.2"',
    '480p/index.m3u8',
    '',
  ].join('\n');

  it('adds one SUBTITLES group before the variants and names it on every variant', () => {
    const out = withSubtitles(master, [{ language: 'en', name: 'English', uri: 'subs/en.m3u8' }]);
    const lines = out.split('\n');
    expect(lines[2]).toBe(
      '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,URI="subs/en.m3u8"',
    );
    const variants = lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF:'));
    expect(variants).toHaveLength(2);
    for (const v of variants) expect(v.endsWith(',SUBTITLES="subs"')).toBe(true);
    expect(lines).toContain('240p/index.m3u8');
  });

  it('leaves a video without speech without any subtitles group', () => {
    expect(withSubtitles(master, [])).toBe(master);
  });

  it('carries an access token into the subtitles URI like every other URI', () => {
    const out = withAccessToken(withSubtitles(master, [{ language: 'en', name: 'English', uri: 'subs/en.m3u8' }]), 'k1');
    expect(out).toContain('URI="subs/en.m3u8?access_token=k1"');
  });

  it('writes a VOD subtitles playlist holding the one VTT as long as the video', () => {
    expect(subtitlesPlaylist(24.04, '../../captions/en.vtt')).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:25',
        '#EXT-X-MEDIA-SEQUENCE:0',
        '#EXT-X-PLAYLIST-TYPE:VOD',
        '#EXTINF:24.040,',
        '../../captions/en.vtt',
        '#EXT-X-ENDLIST',
        '',
      ].join('\n'),
    );
  });
});
