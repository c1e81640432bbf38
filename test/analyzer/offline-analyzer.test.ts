import { OfflineAnalyzer, fnv1a32, hashingEmbedding } from '../../src/adapters/analyzer/offline-analyzer';
import { sampleFacts } from '../support/facts';

const facts = sampleFacts;

const norm = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

describe('hashingEmbedding', () => {
  it('gives the identical vector for the same text every time', () => {
    const a = hashingEmbedding('A cat rides a skateboard down the hill');
    const b = hashingEmbedding('A cat rides a skateboard down the hill');
    expect(b).toEqual(a);
    expect(a.filter((x) => x !== 0).length).toBeGreaterThan(10);
  });

  it('uses standard FNV-1a so stored vectors stay valid across releases', () => {
    // Published FNV-1a 32-bit test vectors: a change here silently invalidates every stored vector.
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('ignores case and punctuation', () => {
    expect(hashingEmbedding('CAT, Skateboard!')).toEqual(hashingEmbedding('cat skateboard'));
  });

  it('has 384 dimensions and unit length', () => {
    const v = hashingEmbedding('sunset over the mountains, timelapse');
    expect(v).toHaveLength(384);
    expect(norm(v)).toBeCloseTo(1, 10);
    expect(hashingEmbedding('x', 32)).toHaveLength(32);
  });

  it('returns a finite unit vector for empty or punctuation-only text', () => {
    for (const text of ['', '   ', '!!! ---']) {
      const v = hashingEmbedding(text);
      expect(v).toHaveLength(384);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 10);
    }
  });

  it('makes texts sharing words more similar than unrelated texts', () => {
    const q = hashingEmbedding('skateboard cat');
    expect(dot(q, hashingEmbedding('a cat on a skateboard'))).toBeGreaterThan(dot(q, hashingEmbedding('mountain sunset timelapse')) + 0.3);
  });
});

describe('OfflineAnalyzer', () => {
  const analyzer = new OfflineAnalyzer();

  it('identifies itself as offline, not AI', async () => {
    expect(analyzer.name).toBe('offline');
    expect(analyzer.model).toBe('hashing-v1');
    expect(analyzer.offline).toBe(true);
  });

  it('writes a summary from the facts that says it is an offline description', async () => {
    const { summary } = await analyzer.analyze({ videoId: 'v1', title: 'Holiday.mp4', facts });
    expect(summary).toMatch(/offline/i);
    expect(summary).toMatch(/no AI/i);
    expect(summary).toContain('12.5-second');
    expect(summary).toContain('1920x1080');
    expect(summary).toContain('h264');
    expect(summary).toContain('30 fps');
    expect(summary).toContain('aac audio');
  });

  it('says a video without audio is silent, and formats long durations in minutes', async () => {
    const { summary, tags } = await analyzer.analyze({
      videoId: 'v2',
      title: 'clip',
      facts: { ...facts, audioCodec: null, frameRate: null, durationSec: 125 },
    });
    expect(summary).toMatch(/silent/);
    expect(summary).toContain('2 min 05 s');
    expect(summary).not.toContain('fps');
    expect(tags).toContain('silent');
    expect(tags).toContain('medium');
  });

  it('derives tags from facts and title words', async () => {
    const { tags } = await analyzer.analyze({
      videoId: 'v3',
      title: 'Cat_on_a_Skateboard-2024.mp4',
      facts: { ...facts, width: 480, height: 640, durationSec: 900 },
    });
    expect(tags).toEqual(expect.arrayContaining(['long', 'portrait', 'sd', 'has-audio', 'h264', 'cat', 'skateboard']));
    expect(tags).not.toContain('mp4');
    expect(tags).not.toContain('2024');
    expect(new Set(tags).size).toBe(tags.length);
    const square = await analyzer.analyze({ videoId: 'v4', title: '', facts: { ...facts, width: 720, height: 720 } });
    expect(square.tags).toEqual(expect.arrayContaining(['short', 'square', 'hd']));
  });

  it('embeds deterministically: the same request gives the same vector', async () => {
    const req = { videoId: 'v5', title: 'Birthday party', facts };
    const a = await analyzer.analyze(req);
    const b = await analyzer.analyze(req);
    expect(b.embedding).toEqual(a.embedding);
    expect(a.embedding).toHaveLength(384);
    expect(norm(a.embedding)).toBeCloseTo(1, 10);
  });

  it('ranks the video whose title matches the query first', async () => {
    // Same facts on purpose: only the title can tell them apart.
    const cat = await analyzer.analyze({ videoId: 'cat', title: 'Cat riding a skateboard', facts });
    const sunset = await analyzer.analyze({ videoId: 'sunset', title: 'Sunset over the mountains', facts });
    for (const [query, expected] of [
      ['skateboard cat', 'cat'],
      ['mountains sunset', 'sunset'],
      ['skateboarding', 'cat'], // shares trigrams with "skateboard"
    ] as const) {
      const q = await analyzer.embedQuery(query);
      const ranked = [
        { id: 'cat', score: dot(q, cat.embedding) },
        { id: 'sunset', score: dot(q, sunset.embedding) },
      ].sort((a, b) => b.score - a.score);
      expect(ranked[0]?.id).toBe(expected);
    }
  });
});
