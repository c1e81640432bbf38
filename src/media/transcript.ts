/**
 * The timed transcript as data: what one transcription answer says about one audio
 * chunk, turned into segments on the video's clock, and the language it was heard in. Pure.
 */

/** One timed piece of the transcript, in seconds of the video. */
export interface TranscriptSegment {
  startSec: number;
  endSec: number;
  text: string;
}

/** The chunk an answer is about: where it starts in the video and how long it is. */
export interface ChunkSpan {
  startSec: number;
  durationSec: number;
}

/**
 * Segments of one chunk on the video's clock: the provider times each segment from the start of
 * the audio it was sent (the chunk), so each gets `chunk.startSec` added. A provider that answers
 * plain `{text}` (no segments: the json format, or a server without verbose_json) gives one
 * segment spanning the chunk. Times are clamped into the chunk (a model may run a little past
 * the end of its audio) and rounded to milliseconds; empty segments are dropped.
 */
export function chunkSegments(
  chunk: ChunkSpan,
  answer: { text: string; segments?: { start: number; end: number; text: string }[] | undefined },
): TranscriptSegment[] {
  const chunkEnd = chunk.startSec + Math.max(0, chunk.durationSec);
  const at = (rel: number) => ms(Math.min(chunkEnd, Math.max(chunk.startSec, chunk.startSec + (Number.isFinite(rel) ? rel : 0))));
  const timed = answer.segments ?? [];
  if (timed.length === 0) {
    const text = clean(answer.text);
    return text ? [{ startSec: ms(chunk.startSec), endSec: ms(chunkEnd), text }] : [];
  }
  const out: TranscriptSegment[] = [];
  for (const s of timed) {
    const text = clean(s.text);
    if (!text) continue;
    const startSec = at(s.start);
    out.push({ startSec, endSec: Math.max(startSec, at(s.end)), text });
  }
  return out;
}

const clean = (s: string) => s.replace(/\s+/g, ' ').trim();
const ms = (sec: number) => Math.round(sec * 1000) / 1000;

/**
 * ISO 639-1 of the language a transcription API reports: whisper's verbose_json says `english`,
 * other servers say `en` or `en-US`. Unknown names give undefined (not a guess).
 */
export function normalizeLanguage(raw: string | undefined | null): string | undefined {
  if (!raw) return undefined;
  const s = raw.trim().toLowerCase();
  const code = /^([a-z]{2})(?:[-_][a-z0-9]+)*$/.exec(s)?.[1];
  if (code) return code;
  return LANGUAGE_CODES[s];
}

/** Whisper's language names (the common ones) → ISO 639-1. */
const LANGUAGE_CODES: Record<string, string> = {
  english: 'en',
  german: 'de',
  french: 'fr',
  spanish: 'es',
  castilian: 'es',
  italian: 'it',
  portuguese: 'pt',
  dutch: 'nl',
  flemish: 'nl',
  swedish: 'sv',
  danish: 'da',
  norwegian: 'no',
  finnish: 'fi',
  russian: 'ru',
  hungarian: 'hu',
  romanian: 'ro',
  turkish: 'tr',
  greek: 'el',
  polish: 'pl',
  czech: 'cs',
  ukrainian: 'uk',
  arabic: 'ar',
  hebrew: 'he',
  hindi: 'hi',
  indonesian: 'id',
  japanese: 'ja',
  korean: 'ko',
  chinese: 'zh',
  mandarin: 'zh',
  vietnamese: 'vi',
  thai: 'th',
  catalan: 'ca',
  irish: 'ga',
  lithuanian: 'lt',
  armenian: 'hy',
  nepali: 'ne',
  serbian: 'sr',
  tamil: 'ta',
  yiddish: 'yi',
  basque: 'eu',
};

/**
 * The PostgreSQL text-search configuration for a language (the stock ones of PostgreSQL 15+):
 * stemming follows the language; anything else gets 'simple' (lower-cased words, no stemming).
 */
export function textSearchConfig(language: string | undefined): string {
  return (language && TS_CONFIGS[language]) || 'simple';
}

const TS_CONFIGS: Record<string, string> = {
  ar: 'arabic',
  hy: 'armenian',
  eu: 'basque',
  ca: 'catalan',
  da: 'danish',
  nl: 'dutch',
  en: 'english',
  fi: 'finnish',
  fr: 'french',
  de: 'german',
  el: 'greek',
  hi: 'hindi',
  hu: 'hungarian',
  id: 'indonesian',
  ga: 'irish',
  it: 'italian',
  lt: 'lithuanian',
  ne: 'nepali',
  no: 'norwegian',
  pt: 'portuguese',
  ro: 'romanian',
  ru: 'russian',
  sr: 'serbian',
  es: 'spanish',
  sv: 'swedish',
  ta: 'tamil',
  tr: 'turkish',
  yi: 'yiddish',
};
