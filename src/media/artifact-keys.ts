/**
 * Where every artifact of a video lives in object storage: the data plane. Activities hand each
 * other keys, never local paths: a worker's disk is only a scratch cache it may lose at any time
 * (a missing cache entry is fetched again from these keys). One layout, declared here, read by
 * the media, AI and index workers, the API (which serves published media from it), deletion,
 * retention and the reconciler (which find a video's objects by listing its prefixes).
 *
 *   uploads/<videoId>/<uploadId>             the client's upload (written once, pinned at completion)
 *   work/<videoId>/…                         intermediates of the media step (plan, source copy,
 *                                            segments, audio, hand-over); gone when the step ends
 *   media/<videoId>/rendition.mp4            published: the MP4, its thumbnail, the HLS ladder
 *   media/<videoId>/thumbnail.jpg
 *   media/<videoId>/manifest.json            written after both: what a retry checks to reuse them
 *   media/<videoId>/hls/<name>               master.m3u8 is written last: it publishes the ladder
 *   media/<videoId>/storyboard/<name>        scrub previews: sprite-<run>-000.jpg … sheets, then
 *                                            storyboard.vtt (written last: it names the run's sheets)
 *   analysis/<videoId>/…                     what the AI step looks at (keyframes, audio chunks)
 *                                            the embedding artifact the reconciler repairs from,
 *                                            and the timed transcript the index step stores
 *
 * Keys are attempt-scoped where two attempts (on two hosts) may write the same artifact: the
 * attempt writes its own key, then a small pointer document names it, so a reader never sees
 * another attempt's half-written object (and S3 publishes an object only when it is whole).
 */
export const VIDEO_PREFIXES = ['uploads', 'work', 'media', 'analysis'] as const;
export type VideoPrefix = (typeof VIDEO_PREFIXES)[number];

/** `<prefix>/<videoId>/`: everything of one video under one prefix (deletion lists these). */
export function videoPrefix(prefix: VideoPrefix, videoId: string): string {
  return `${prefix}/${videoId}/`;
}

/** Every prefix a video's objects can live under. */
export function videoPrefixes(videoId: string): string[] {
  return VIDEO_PREFIXES.map((p) => videoPrefix(p, videoId));
}

/** The video id an object key belongs to (its second segment), if it follows the layout. */
export function videoIdOfKey(key: string): string | undefined {
  const [prefix, videoId, rest] = key.split('/', 3);
  return (VIDEO_PREFIXES as readonly string[]).includes(prefix ?? '') && videoId && rest !== undefined ? videoId : undefined;
}

export const workKey = (videoId: string, name: string) => `${videoPrefix('work', videoId)}${name}`;
export const mediaKey = (videoId: string, name: string) => `${videoPrefix('media', videoId)}${name}`;
export const analysisKey = (videoId: string, name: string) => `${videoPrefix('analysis', videoId)}${name}`;

export const renditionKey = (videoId: string) => mediaKey(videoId, 'rendition.mp4');
export const thumbnailKey = (videoId: string) => mediaKey(videoId, 'thumbnail.jpg');
export const hlsKey = (videoId: string, name: string) => mediaKey(videoId, `hls/${name}`);
/** A storyboard file (`storyboard.vtt` or a sprite sheet) of the video. */
export const storyboardKey = (videoId: string, name: string) => mediaKey(videoId, `storyboard/${name}`);
/**
 * A keyframe or audio chunk the AI step reads: content-addressed, so a retried attempt on
 * another host publishes its own object and never replaces one a reader is fetching.
 */
export const analysisInputKey = (videoId: string, name: string, sha256: string) =>
  analysisKey(videoId, `inputs/${sha256.slice(0, 16)}-${name}`);
/** The embedding artifact the index step and the reconciler read (one per analyzer). */
export const embeddingKey = (videoId: string, analyzer: string) => analysisKey(videoId, `embedding.${analyzer}.json`);
export const renditionManifestKey = (videoId: string) => mediaKey(videoId, 'manifest.json');
/** The timed transcript: segments on the video's clock, language and status (one per analyzer). */
export const transcriptKey = (videoId: string, analyzer: string) => analysisKey(videoId, `transcript.${analyzer}.json`);
