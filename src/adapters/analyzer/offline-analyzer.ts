import type { MediaFacts } from '../../workflows/contracts';
import type { Analysis, AnalysisRequest, Analyzer } from './port';

/**
 * The analyzer that needs nothing: no network, no model, no key. Its words come from the
 * probed facts and the title only, and its summary says so, so nobody mistakes it for AI.
 * Its vectors are feature-hashed bags of words: crude, but deterministic and good enough
 * that searching for a title's words finds that video.
 */
export class OfflineAnalyzer implements Analyzer {
  readonly name = 'offline';
  readonly model = 'hashing-v1';
  readonly offline = true;

  constructor(private readonly dim = DEFAULT_DIM) {}

  async analyze(req: AnalysisRequest): Promise<Analysis> {
    const summary = describeFacts(req.facts);
    const tags = factTags(req.facts, req.title);
    const embedding = hashingEmbedding(`${req.title}\n${summary}\n${tags.join(' ')}`, this.dim);
    return { summary, tags, embedding };
  }

  async embedQuery(text: string): Promise<number[]> {
    return hashingEmbedding(text, this.dim);
  }
}

export const DEFAULT_DIM = 384;

// Title words carry no meaning in a tag list; a file name often ends in its extension.
const STOPWORDS = new Set(['the', 'and', 'for', 'with', 'from', 'into', 'this', 'that', 'video', 'final', 'copy']);
const VIDEO_EXTENSION = /\.(mp4|m4v|mov|mkv|webm|avi|wmv|flv|mpe?g|ts|3gp|ogv)$/i;
const MAX_TITLE_TAGS = 5;

export function describeFacts(f: MediaFacts): string {
  const parts = [`${formatDuration(f.durationSec)} ${f.width}x${f.height} ${f.videoCodec} video`];
  if (f.frameRate !== null && Number.isFinite(f.frameRate) && f.frameRate > 0) {
    parts.push(`at ${round(f.frameRate, 2)} fps`);
  }
  parts.push(f.audioCodec ? `with ${f.audioCodec} audio` : 'with no audio track (silent)');
  // ffprobe names a demuxer family ("mov,mp4,m4a,3gp,3g2,mj2"); the first two say enough.
  const container = f.container.split(',').slice(0, 2).join('/');
  if (container && container !== 'unknown') parts.push(`in a ${container} container`);
  return `Offline description (no AI analysis): a ${parts.join(' ')}.`;
}

export function factTags(f: MediaFacts, title: string): string[] {
  const tags = [
    f.durationSec < 60 ? 'short' : f.durationSec < 600 ? 'medium' : 'long',
    f.width > f.height ? 'landscape' : f.width < f.height ? 'portrait' : 'square',
    // The short side decides: a 1080x1920 phone video is as "hd" as a 1920x1080 one.
    Math.min(f.width, f.height) >= 720 ? 'hd' : 'sd',
    f.audioCodec ? 'has-audio' : 'silent',
  ];
  const codec = tokenize(f.videoCodec).join('-');
  if (codec) tags.push(codec);

  const titleWords = tokenize(title.replace(VIDEO_EXTENSION, '')).filter(
    (w) => w.length >= 3 && !/^\d+$/.test(w) && !STOPWORDS.has(w) && !tags.includes(w),
  );
  return [...tags, ...new Set(titleWords)].slice(0, tags.length + MAX_TITLE_TAGS);
}

function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return 'unknown-length';
  if (sec < 60) return `${round(sec, 1)}-second`;
  const total = Math.round(sec);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h} h ${pad(m)} min` : `${m} min ${pad(s)} s`;
}

const pad = (n: number): string => String(n).padStart(2, '0');
const round = (n: number, digits: number): number => Number(n.toFixed(digits));

/** Lowercase words split on anything that is not a letter or digit (any script). */
export function tokenize(text: string): string[] {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0);
}

/**
 * Feature hashing ("hashing trick"): every word and every character trigram of a word adds
 * ±weight to one of `dim` buckets. Trigrams make "skate" and "skateboard" overlap; the sign
 * bit makes unrelated features that collide cancel out on average instead of piling up.
 * Unit length so a dot product is the cosine.
 */
export function hashingEmbedding(text: string, dim = DEFAULT_DIM): number[] {
  if (!Number.isInteger(dim) || dim <= 0) throw new RangeError(`dim must be a positive integer, got ${dim}`);
  const v = new Array<number>(dim).fill(0);
  for (const word of tokenize(text)) {
    add(v, `w:${word}`, 1);
    const padded = `^${word}$`;
    // A word of one letter has no trigram but "^a$"; that is still a useful feature.
    for (let i = 0; i + 3 <= padded.length; i++) add(v, `t:${padded.slice(i, i + 3)}`, 0.5);
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  if (norm === 0) {
    // No features (empty or punctuation-only text). A zero vector makes cosine 0/0 = NaN in
    // vector stores, so return a fixed unit vector instead: valid, deterministic, finite.
    v[0] = 1;
    return v;
  }
  return v.map((x) => x / norm);
}

function add(v: number[], feature: string, weight: number): void {
  const h = fnv1a32(feature);
  const i = h % v.length;
  v[i] = (v[i] ?? 0) + ((h & 0x80000000) === 0 ? weight : -weight);
}

/** FNV-1a, 32-bit, over UTF-16 code units: tiny, fast, stable across runs and platforms. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h ^= c & 0xff;
    h = Math.imul(h, 0x01000193);
    if (c > 0xff) {
      h ^= c >>> 8;
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}
