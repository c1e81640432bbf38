/**
 * HLS playlists as data (RFC 8216): parse, check, write, and re-point URIs. Pure; used by
 * the packaging activity (to verify ffmpeg's output and write the master) and by the API
 * (to carry an access token into the URIs a player fetches next).
 */

export interface MasterVariant {
  uri: string;
  /** Every attribute of its EXT-X-STREAM-INF, quotes removed. */
  attrs: Record<string, string>;
}

export interface MediaPlaylist {
  version: number | undefined;
  targetDuration: number | undefined;
  playlistType: string | undefined;
  /** EXT-X-MAP URI: the fMP4 init segment. */
  map: string | undefined;
  segments: { uri: string; duration: number }[];
  endList: boolean;
}

/** `KEY=value,KEY="quoted, with commas"` → record. */
export function parseAttributes(list: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const re = /([A-Z0-9-]+)=("[^"]*"|[^,]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(list))) {
    const raw = m[2] ?? '';
    attrs[m[1] ?? ''] = raw.startsWith('"') ? raw.slice(1, -1) : raw;
  }
  return attrs;
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

export function parseMasterPlaylist(text: string): { ok: boolean; variants: MasterVariant[] } {
  const all = lines(text);
  const variants: MasterVariant[] = [];
  for (let i = 0; i < all.length; i++) {
    const line = all[i] ?? '';
    if (!line.startsWith('#EXT-X-STREAM-INF:')) continue;
    const uri = all[i + 1];
    if (uri === undefined || uri.startsWith('#')) continue;
    variants.push({ uri, attrs: parseAttributes(line.slice('#EXT-X-STREAM-INF:'.length)) });
  }
  return { ok: all[0] === '#EXTM3U', variants };
}

export function parseMediaPlaylist(text: string): MediaPlaylist {
  const all = lines(text);
  const out: MediaPlaylist = {
    version: undefined,
    targetDuration: undefined,
    playlistType: undefined,
    map: undefined,
    segments: [],
    endList: false,
  };
  let pending: number | undefined;
  for (const line of all) {
    if (line.startsWith('#EXT-X-VERSION:')) out.version = Number(line.slice(15));
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) out.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-PLAYLIST-TYPE:')) out.playlistType = line.slice(21);
    else if (line.startsWith('#EXT-X-MAP:')) out.map = parseAttributes(line.slice(11)).URI;
    else if (line.startsWith('#EXTINF:')) pending = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-ENDLIST') out.endList = true;
    else if (!line.startsWith('#')) {
      out.segments.push({ uri: line, duration: pending ?? Number.NaN });
      pending = undefined;
    }
  }
  return out;
}

/**
 * The playlist with its last segment's EXTINF set to `durationSec` (measured: ffmpeg's hls
 * muxer sums packet durations for it, see hls-timing.ts), and EXT-X-TARGETDURATION raised if
 * the rounded duration now exceeds it (RFC 8216 §4.3.3.1). Everything else is left as written.
 */
export function withLastSegmentDuration(text: string, durationSec: number): string {
  const rows = text.split('\n');
  let last = -1;
  rows.forEach((l, i) => {
    if (l.trim().startsWith('#EXTINF:')) last = i;
  });
  if (last < 0 || !(durationSec > 0)) return text;
  const title = rows[last]!.slice(rows[last]!.indexOf(',') + 1);
  rows[last] = `#EXTINF:${durationSec.toFixed(6)},${rows[last]!.includes(',') ? title : ''}`;
  const target = rows.findIndex((l) => l.trim().startsWith('#EXT-X-TARGETDURATION:'));
  if (target >= 0) {
    const current = Number(rows[target]!.trim().slice('#EXT-X-TARGETDURATION:'.length));
    if (!(current >= Math.round(durationSec))) rows[target] = `#EXT-X-TARGETDURATION:${Math.round(durationSec)}`;
  }
  return rows.join('\n');
}

const CODEC = /^(avc1\.[0-9a-fA-F]{6}|mp4a\.40\.\d+)$/;

/** What is wrong with a master playlist, one sentence each; empty = every variant is fully described. */
export function masterProblems(text: string): string[] {
  const { ok, variants } = parseMasterPlaylist(text);
  const problems: string[] = [];
  if (!ok) problems.push('the master playlist does not start with #EXTM3U');
  if (variants.length === 0) problems.push('the master playlist lists no variant');
  for (const v of variants) {
    const bw = v.attrs.BANDWIDTH;
    if (!bw || !/^\d+$/.test(bw) || Number(bw) <= 0) problems.push(`${v.uri}: BANDWIDTH missing or not a positive integer`);
    if (!/^\d+x\d+$/.test(v.attrs.RESOLUTION ?? '')) problems.push(`${v.uri}: RESOLUTION missing or not WxH`);
    const codecs = v.attrs.CODECS;
    if (!codecs) problems.push(`${v.uri}: CODECS missing`);
    else if (!codecs.split(',').every((c) => CODEC.test(c.trim()))) problems.push(`${v.uri}: CODECS "${codecs}" is not avc1/mp4a`);
  }
  return problems;
}

/** What is wrong with a variant (media) playlist of a finished VOD ladder. */
export function mediaPlaylistProblems(p: MediaPlaylist): string[] {
  const problems: string[] = [];
  if (p.targetDuration === undefined || !(p.targetDuration > 0)) problems.push('EXT-X-TARGETDURATION missing');
  if (!p.map) problems.push('EXT-X-MAP (the fMP4 init segment) missing');
  if (!p.endList) problems.push('EXT-X-ENDLIST missing: a VOD playlist must be complete');
  if (p.segments.length === 0) problems.push('no segments');
  for (const s of p.segments) {
    if (!(s.duration > 0)) problems.push(`${s.uri}: EXTINF missing or not positive`);
    // RFC 8216 §4.3.3.1: each duration, rounded to an integer, must not exceed the target duration.
    else if (p.targetDuration !== undefined && Math.round(s.duration) > p.targetDuration)
      problems.push(`${s.uri}: ${s.duration} s exceeds EXT-X-TARGETDURATION ${p.targetDuration}`);
  }
  return problems;
}

export interface MasterEntry {
  uri: string;
  /** Peak segment bit rate (bits/s), as RFC 8216 §4.3.4.2 defines BANDWIDTH. */
  bandwidth: number;
  averageBandwidth: number;
  width: number;
  height: number;
  codecs: string;
  frameRate?: number | null;
}

export function writeMasterPlaylist(entries: readonly MasterEntry[]): string {
  const out = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const e of entries) {
    const attrs = [
      `BANDWIDTH=${Math.ceil(e.bandwidth)}`,
      `AVERAGE-BANDWIDTH=${Math.ceil(e.averageBandwidth)}`,
      `RESOLUTION=${e.width}x${e.height}`,
      `CODECS="${e.codecs}"`,
      ...(e.frameRate ? [`FRAME-RATE=${e.frameRate.toFixed(3)}`] : []),
    ];
    out.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, e.uri);
  }
  return out.join('\n') + '\n';
}

/**
 * Appends `access_token=<token>` to every URI in a playlist (variant playlists, segments and
 * the EXT-X-MAP init segment): a player resolves them against the playlist's URL but drops
 * its query, so a key given as a query parameter would be lost after the first request.
 * Absolute URIs (another host) are left alone: the key must not leak elsewhere.
 */
export function withAccessToken(playlist: string, token: string): string {
  const add = (uri: string) =>
    /^[a-z][a-z0-9+.-]*:/i.test(uri) || uri.startsWith('//')
      ? uri
      : `${uri}${uri.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`;
  return playlist
    .split('\n')
    .map((line) => {
      const t = line.trim();
      if (!t) return line;
      if (!t.startsWith('#')) return add(t);
      return line.replace(/URI="([^"]*)"/g, (_m, uri: string) => `URI="${add(uri)}"`);
    })
    .join('\n');
}

/**
 * RFC 6381 codec string of H.264 from its avcC box (`avc1.PPCCLL`: profile, constraint flags,
 * level), read from the fMP4 init segment. undefined when the file holds no avcC.
 */
export function avcCodecFromInit(init: Uint8Array): string | undefined {
  const buf = Buffer.from(init.buffer, init.byteOffset, init.byteLength);
  for (let i = buf.indexOf('avcC', 4, 'latin1'); i >= 4; i = buf.indexOf('avcC', i + 1, 'latin1')) {
    const size = buf.readUInt32BE(i - 4);
    // configurationVersion is 1; the box holds at least version, profile, flags, level, lengthSize.
    if (size < 8 + 5 || i - 4 + size > buf.length || buf[i + 4] !== 1) continue;
    const hex = (b: number | undefined) => (b ?? 0).toString(16).padStart(2, '0');
    return `avc1.${hex(buf[i + 5])}${hex(buf[i + 6])}${hex(buf[i + 7])}`;
  }
  return undefined;
}

/** RFC 6381 codec string of AAC from ffprobe's profile name. */
export function aacCodec(profile: string | undefined): string {
  switch (profile) {
    case 'HE-AAC':
      return 'mp4a.40.5';
    case 'HE-AACv2':
      return 'mp4a.40.29';
    default:
      return 'mp4a.40.2';
  }
}
