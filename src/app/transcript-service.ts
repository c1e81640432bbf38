import type { Pool } from 'pg';
import type { ObjectStorage } from '../adapters/storage/port';
import { loadTranscriptArtifact } from '../artifacts/transcript-artifact';
import { TranscriptsRepo } from '../db/transcripts-repo';
import { VideosRepo, type VideoRow } from '../db/videos-repo';
import { renderWebVtt, subtitlesPlaylist, withSubtitles, type SubtitlesRendition } from '../media/captions';
import { transcriptKey } from '../media/artifact-keys';
import type { TranscriptSegment } from '../media/transcript';
import type { TranscriptStatus } from '../workflows/contracts';
import { AppError } from './errors';

/** GET /videos/:id/transcript. */
export interface TranscriptView {
  videoId: string;
  /** ISO 639-1 as detected by the transcription; null when unknown (or no speech). */
  language: string | null;
  /**
   * present: all audio transcribed; partial: some chunks were not; unavailable: the audio was
   * not heard (offline analysis, no transcription route, not analysed yet); none: no audio.
   */
  status: TranscriptStatus;
  /** Seconds of the video, in time order. */
  segments: TranscriptSegment[];
  links: { self: string; video: string; captions: string | null };
}

/** Language tag of captions whose language the provider did not report. */
const UNDETERMINED = 'und';

/**
 * The transcript and the captions made from it. Segments come from PostgreSQL (written with the
 * row by the index saga); captions are rendered from them per request rather than stored as an
 * object: the segments stay the one source (a re-analysis changes the captions at once), and
 * there is no second copy for deletion, retention and the reconciler to track. A VTT is small
 * and cheap to render; the player fetches it once.
 */
export class TranscriptService {
  private readonly transcripts: TranscriptsRepo;
  private readonly videos: VideosRepo;

  constructor(private readonly deps: { pool: Pool; storage: ObjectStorage }) {
    this.transcripts = new TranscriptsRepo(deps.pool);
    this.videos = new VideosRepo(deps.pool);
  }

  async transcript(videoId: string): Promise<TranscriptView> {
    const row = await this.row(videoId);
    const { language, segments } = await this.transcripts.read(videoId);
    const lang = language ?? (segments.length > 0 ? UNDETERMINED : null);
    return {
      videoId,
      language,
      status: await this.statusOf(row, segments.length),
      segments,
      links: {
        self: `/videos/${videoId}/transcript`,
        video: `/videos/${videoId}`,
        captions: lang ? `/videos/${videoId}/captions/${lang}.vtt` : null,
      },
    };
  }

  /** WebVTT of the transcript in `language` (what the transcript's links name); `undefined` = whatever it is in. */
  async captions(videoId: string, language?: string): Promise<string> {
    await this.row(videoId);
    const t = await this.spoken(videoId);
    if (!t || (language !== undefined && language !== t.language)) {
      throw new AppError(
        'not-found',
        'CaptionsNotFound',
        `video ${videoId} has no captions${language ? ` in ${JSON.stringify(language)}` : ''}`,
        {
          videoId,
          hint: `GET /videos/${videoId}/transcript says whether it has speech and in which language.`,
        },
      );
    }
    return renderWebVtt(t.segments);
  }

  /** The master playlist with the subtitles rendition when the video has speech; unchanged otherwise. */
  async masterWithSubtitles(videoId: string, master: string): Promise<string> {
    const language = await this.transcripts.language(videoId);
    if (language === undefined) return master;
    const lang = language ?? UNDETERMINED;
    const rendition: SubtitlesRendition = { language: lang, name: languageName(lang), uri: `subs/${lang}.m3u8` };
    return withSubtitles(master, [rendition]);
  }

  /** The subtitles media playlist (`hls/subs/<lang>.m3u8`): the VTT as one segment as long as the video. */
  async subtitlesPlaylist(videoId: string, language: string): Promise<string> {
    const row = await this.row(videoId);
    const stored = await this.transcripts.language(videoId);
    if (stored === undefined || (stored ?? UNDETERMINED) !== language) {
      throw new AppError('not-found', 'CaptionsNotFound', `video ${videoId} has no subtitles in ${JSON.stringify(language)}`, { videoId });
    }
    return subtitlesPlaylist(row.durationSec ?? 0, `../../captions/${language}.vtt`);
  }

  private async spoken(videoId: string): Promise<{ language: string; segments: TranscriptSegment[] } | undefined> {
    const { language, segments } = await this.transcripts.read(videoId);
    return segments.length > 0 ? { language: language ?? UNDETERMINED, segments } : undefined;
  }

  /**
   * The status the analysis recorded in its transcript artifact; without one (offline or degraded
   * analysis, not analysed yet, rows written before transcripts were kept): from what the row and segments show.
   */
  private async statusOf(row: VideoRow, segments: number): Promise<TranscriptStatus> {
    const artifact = row.analyzer
      ? await loadTranscriptArtifact(transcriptKey(row.id, row.analyzer), this.deps.storage).catch(() => undefined)
      : undefined;
    if (artifact) return artifact.status;
    if (segments > 0) return 'present';
    return row.media && !row.media.rendition.audioCodec ? 'none' : 'unavailable';
  }

  private async row(videoId: string): Promise<VideoRow> {
    const row = await this.videos.get(videoId);
    if (!row) throw new AppError('not-found', 'VideoNotFound', `no video with id ${videoId}`, { videoId });
    return row;
  }
}

/** What a player shows in its captions menu. */
function languageName(code: string): string {
  if (code === UNDETERMINED) return 'Captions';
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(code) ?? code;
  } catch {
    return code;
  }
}
