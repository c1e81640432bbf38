/**
 * Captions from the timed transcript: WebVTT, and the HLS pieces that carry it (a SUBTITLES
 * rendition in the master playlist, and a media playlist holding the one VTT file). Pure.
 */
import type { TranscriptSegment } from './transcript';

/** `HH:MM:SS.mmm`, the WebVTT timestamp (hours always written: cues past an hour stay valid). */
export function vttTimestamp(sec: number): string {
  const total = Math.max(0, Math.round(sec * 1000));
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = Math.floor((total % 60_000) / 1000);
  const milli = total % 1000;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(h)}:${two(m)}:${two(s)}.${String(milli).padStart(3, '0')}`;
}

/**
 * A WebVTT document with one cue per segment. A cue's text may not hold a blank line or the
 * `-->` arrow, and `<`/`&` start markup in VTT: they are escaped, so transcript text is shown as
 * spoken and never parsed as tags. A segment with no length still shows for a moment.
 */
export function renderWebVtt(segments: readonly TranscriptSegment[]): string {
  const out = ['WEBVTT', ''];
  segments.forEach((s, i) => {
    const end = s.endSec > s.startSec ? s.endSec : s.startSec + MIN_CUE_SEC;
    const text = s.text
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/\s*\n\s*/g, ' ')
      .trim();
    out.push(String(i + 1), `${vttTimestamp(s.startSec)} --> ${vttTimestamp(end)}`, text, '');
  });
  return out.join('\n');
}

const MIN_CUE_SEC = 0.5;

/**
 * The subtitles media playlist: the whole VTT as one segment as long as the video (RFC 8216
 * allows a WebVTT segment of any length; a VOD player loads it once). `vttUri` is relative to
 * this playlist's URL.
 */
export function subtitlesPlaylist(durationSec: number, vttUri: string): string {
  const d = durationSec > 0 ? durationSec : 1;
  return [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    `#EXT-X-TARGETDURATION:${Math.ceil(d)}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    '#EXT-X-PLAYLIST-TYPE:VOD',
    `#EXTINF:${d.toFixed(3)},`,
    vttUri,
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
}

export interface SubtitlesRendition {
  /** ISO 639-1 (or 'und' when the language is unknown). */
  language: string;
  name: string;
  /** The subtitles playlist, relative to the master playlist. */
  uri: string;
}

export const SUBTITLES_GROUP = 'subs';

/**
 * The master playlist with a SUBTITLES group: one EXT-X-MEDIA line per rendition (the first is
 * the default; AUTOSELECT lets a player pick it by the viewer's language) and `SUBTITLES="subs"`
 * on every variant. No renditions: the playlist unchanged (a video without speech gets no
 * group at all, not an empty track).
 */
export function withSubtitles(master: string, renditions: readonly SubtitlesRendition[]): string {
  if (renditions.length === 0) return master;
  const media = renditions.map(
    (r, i) =>
      `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="${SUBTITLES_GROUP}",NAME="${r.name.replace(/"/g, "'")}",LANGUAGE="${r.language}",` +
      `DEFAULT=${i === 0 ? 'YES' : 'NO'},AUTOSELECT=YES,FORCED=NO,URI="${r.uri}"`,
  );
  const rows = master.split('\n');
  const firstVariant = rows.findIndex((l) => l.trim().startsWith('#EXT-X-STREAM-INF:'));
  const out: string[] = [];
  rows.forEach((line, i) => {
    if (i === firstVariant) out.push(...media);
    const t = line.trim();
    if (t.startsWith('#EXT-X-STREAM-INF:') && !/(^|[:,])SUBTITLES=/.test(t)) out.push(`${t},SUBTITLES="${SUBTITLES_GROUP}"`);
    else out.push(line);
  });
  if (firstVariant < 0) return master;
  return out.join('\n');
}
