import {
  aacCodec,
  avcCodecFromInit,
  masterProblems,
  mediaPlaylistProblems,
  parseAttributes,
  parseMasterPlaylist,
  parseMediaPlaylist,
  withAccessToken,
  withLastSegmentDuration,
  writeMasterPlaylist,
} from '../../src/media/hls-playlist';

// What ffmpeg 5.1 writes for a copied stream: no CODECS, BANDWIDTH from encoder settings.
const FFMPEG_51_MASTER = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-STREAM-INF:BANDWIDTH=2151496,RESOLUTION=640x360
360p/index.m3u8

#EXT-X-STREAM-INF:BANDWIDTH=580815,RESOLUTION=426x240,CODECS="avc1.42c015,mp4a.40.2"
240p/index.m3u8
`;

const VARIANT = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init_1.mp4"
#EXTINF:4.000000,
seg_00000.m4s
#EXTINF:2.000000,
seg_00001.m4s
#EXT-X-ENDLIST
`;

describe('master playlist', () => {
  test('parses attributes, including quoted ones with commas', () => {
    expect(parseAttributes('BANDWIDTH=1,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1x2')).toEqual({
      BANDWIDTH: '1',
      CODECS: 'avc1.64001f,mp4a.40.2',
      RESOLUTION: '1x2',
    });
  });

  test('reads each variant with its URI', () => {
    const m = parseMasterPlaylist(FFMPEG_51_MASTER);
    expect(m.ok).toBe(true);
    expect(m.variants.map((v) => v.uri)).toEqual(['360p/index.m3u8', '240p/index.m3u8']);
    expect(m.variants[1]?.attrs.CODECS).toBe('avc1.42c015,mp4a.40.2');
  });

  test("flags ffmpeg 5.1's master: the copied variant has no CODECS", () => {
    expect(masterProblems(FFMPEG_51_MASTER)).toEqual(['360p/index.m3u8: CODECS missing']);
  });

  test('flags a missing header, BANDWIDTH, RESOLUTION and unknown codecs', () => {
    expect(masterProblems('#EXT-X-STREAM-INF:RESOLUTION=1x,CODECS="hvc1.1"\na.m3u8\n')).toEqual([
      'the master playlist does not start with #EXTM3U',
      'a.m3u8: BANDWIDTH missing or not a positive integer',
      'a.m3u8: RESOLUTION missing or not WxH',
      'a.m3u8: CODECS "hvc1.1" is not avc1/mp4a',
    ]);
    expect(masterProblems('#EXTM3U\n')).toEqual(['the master playlist lists no variant']);
  });

  test('what we write passes our own check and carries measured numbers', () => {
    const text = writeMasterPlaylist([
      { uri: '360p/index.m3u8', bandwidth: 1996135.2, averageBandwidth: 1.5e6, width: 640, height: 360, codecs: 'avc1.42c01e,mp4a.40.2' },
      { uri: '240p/index.m3u8', bandwidth: 501256, averageBandwidth: 4e5, width: 426, height: 240, codecs: 'avc1.42c015', frameRate: 25 },
    ]);
    expect(masterProblems(text)).toEqual([]);
    const v = parseMasterPlaylist(text).variants;
    expect(v[0]?.attrs).toMatchObject({ BANDWIDTH: '1996136', RESOLUTION: '640x360', CODECS: 'avc1.42c01e,mp4a.40.2' });
    expect(v[1]?.attrs['FRAME-RATE']).toBe('25.000');
  });
});

describe('media playlist', () => {
  test('parses the init segment, segments and their durations', () => {
    const p = parseMediaPlaylist(VARIANT);
    expect(p).toMatchObject({ version: 7, targetDuration: 4, playlistType: 'VOD', map: 'init_1.mp4', endList: true });
    expect(p.segments).toEqual([
      { uri: 'seg_00000.m4s', duration: 4 },
      { uri: 'seg_00001.m4s', duration: 2 },
    ]);
    expect(mediaPlaylistProblems(p)).toEqual([]);
  });

  test('flags an unfinished playlist and a segment longer than the target duration', () => {
    const p = parseMediaPlaylist(VARIANT.replace('#EXT-X-ENDLIST', '').replace('#EXTINF:2.000000', '#EXTINF:5.000000'));
    expect(mediaPlaylistProblems(p)).toEqual([
      'EXT-X-ENDLIST missing: a VOD playlist must be complete',
      'seg_00001.m4s: 5 s exceeds EXT-X-TARGETDURATION 4',
    ]);
  });

  test('flags a playlist without init segment or segments', () => {
    expect(mediaPlaylistProblems(parseMediaPlaylist('#EXTM3U\n#EXT-X-ENDLIST\n'))).toEqual([
      'EXT-X-TARGETDURATION missing',
      'EXT-X-MAP (the fMP4 init segment) missing',
      'no segments',
    ]);
  });
});

describe('withLastSegmentDuration', () => {
  // What ffmpeg 5.1 wrote for a 5 s variable-frame-rate clip in one segment: its packets' 1/120 s
  // durations summed (168 frames), not the 5 s they span.
  const SHORT = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init_0.mp4"
#EXTINF:1.400000,
seg_00000.m4s
#EXT-X-ENDLIST
`;

  test('sets the last EXTINF to the measured duration and raises the target duration to cover it', () => {
    const fixed = withLastSegmentDuration(SHORT, 4.991667);
    const p = parseMediaPlaylist(fixed);
    expect(p.segments).toEqual([{ uri: 'seg_00000.m4s', duration: 4.991667 }]);
    expect(p.targetDuration).toBe(5);
    expect(mediaPlaylistProblems(p)).toEqual([]);
    expect(fixed.split('\n').length).toBe(SHORT.split('\n').length);
  });

  test('changes only the last segment and keeps a target duration that already covers it', () => {
    const p = parseMediaPlaylist(withLastSegmentDuration(VARIANT, 1.5));
    const before = parseMediaPlaylist(VARIANT);
    expect(p.segments.slice(0, -1)).toEqual(before.segments.slice(0, -1));
    expect(p.segments.at(-1)?.duration).toBe(1.5);
    expect(p.targetDuration).toBe(before.targetDuration);
  });

  test('leaves a playlist without segments, or a duration that is not positive, alone', () => {
    expect(withLastSegmentDuration('#EXTM3U\n', 3)).toBe('#EXTM3U\n');
    expect(withLastSegmentDuration(SHORT, 0)).toBe(SHORT);
  });
});

describe('withAccessToken', () => {
  test('adds the token to segment, init and variant URIs, URL-encoded', () => {
    const out = withAccessToken(VARIANT, 'k+y/1');
    expect(out).toContain('#EXT-X-MAP:URI="init_1.mp4?access_token=k%2By%2F1"');
    expect(out).toContain('\nseg_00000.m4s?access_token=k%2By%2F1\n');
    expect(out).toContain('#EXTINF:4.000000,\n');
    expect(withAccessToken(FFMPEG_51_MASTER, 't')).toContain('\n240p/index.m3u8?access_token=t\n');
  });

  test('appends to an existing query and leaves absolute URIs (another host) alone', () => {
    const out = withAccessToken('#EXTM3U\na.m4s?x=1\nhttps://cdn.example/b.m4s\n//cdn.example/c.m4s\n', 't');
    expect(out).toBe('#EXTM3U\na.m4s?x=1&access_token=t\nhttps://cdn.example/b.m4s\n//cdn.example/c.m4s\n');
  });
});

describe('codec strings', () => {
  test('avc1.PPCCLL from the avcC box of an init segment', () => {
    // ... stsd > avc1 > avcC: size, "avcC", version 1, profile 0x64 (High), flags 0x00, level 0x1f (3.1), …
    const avcC = Buffer.from([0, 0, 0, 15, ...Buffer.from('avcC'), 1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0, 0, 0]);
    const init = Buffer.concat([Buffer.alloc(40, 7), avcC, Buffer.alloc(8)]);
    expect(avcCodecFromInit(init)).toBe('avc1.64001f');
  });

  test('skips "avcC" bytes that are not a configuration box', () => {
    const fake = Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('avcC'), Buffer.alloc(8)]);
    expect(avcCodecFromInit(fake)).toBeUndefined();
    expect(avcCodecFromInit(Buffer.alloc(64))).toBeUndefined();
  });

  test('mp4a.40.x by AAC profile', () => {
    expect(aacCodec('LC')).toBe('mp4a.40.2');
    expect(aacCodec(undefined)).toBe('mp4a.40.2');
    expect(aacCodec('HE-AAC')).toBe('mp4a.40.5');
    expect(aacCodec('HE-AACv2')).toBe('mp4a.40.29');
  });
});
