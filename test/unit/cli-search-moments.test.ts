import { clock, formatHits, playerLink } from '../../src/cli/commands/search';
import type { SearchHit } from '../../src/contracts/http';

const hit = (over: Partial<SearchHit>): SearchHit => ({
  videoId: 'lighthouse',
  score: 1,
  summary: 'An old lighthouse keeper.',
  tags: ['lighthouse', 'coast'],
  durationSec: 14,
  createdAt: '2026-12-06T00:00:00.000Z',
  thumbnail: null,
  rendition: null,
  moments: [],
  ranks: { vector: 1, text: 1 },
  ...over,
});

describe('biblio search output', () => {
  test('prints each moment under its hit with a link that opens the dashboard player at that second', () => {
    const out = formatHits(
      {
        results: [
          hit({ moments: [{ startSec: 4.6, endSec: 9, text: 'The fog horn has not worked.', source: 'transcript' }] }),
          hit({ videoId: 'ferry', moments: [] }),
        ],
        nextOffset: 2,
      },
      'http://127.0.0.1:3000/',
    );
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^SCORE\s+ID\s+TAGS\s+SUMMARY$/);
    expect(lines[1]).toMatch(/^1\.000\s+lighthouse\s+lighthouse,coast\s+An old lighthouse keeper\.$/);
    expect(lines[2]).toBe('  0:04–0:09  "The fog horn has not worked."  http://127.0.0.1:3000/dashboard/#video=lighthouse&t=4');
    expect(lines[3]).toMatch(/^1\.000\s+ferry\s/);
    expect(lines[4]).toBe('more: --offset 2');
  });

  test('a keyframe moment reads as what is shown, not as quoted speech', () => {
    const out = formatHits(
      {
        results: [
          hit({
            moments: [
              { startSec: 10, endSec: 12, text: 'a mostly red frame', source: 'keyframe' },
              { startSec: 4.6, endSec: 9, text: 'The red flag is up.', source: 'transcript' },
            ],
          }),
        ],
        nextOffset: null,
      },
      'http://h:1',
    );
    expect(out.split('\n').slice(2)).toEqual([
      '  0:10–0:12  shown: a mostly red frame  http://h:1/dashboard/#video=lighthouse&t=10',
      '  0:04–0:09  "The red flag is up."  http://h:1/dashboard/#video=lighthouse&t=4',
    ]);
  });

  test('an answer without moments (an older API) still prints its hits', () => {
    const old = hit({}) as Partial<SearchHit>;
    delete old.moments;
    expect(formatHits({ results: [old as SearchHit], nextOffset: null }, 'http://x').split('\n')).toHaveLength(2);
    expect(formatHits({ results: [], nextOffset: null }, 'http://x')).toBe('no matches');
  });

  test('links escape the video id and never point before 0 s; clock shows hours only when needed', () => {
    expect(playerLink('http://h:1', 'a b&c', -3)).toBe('http://h:1/dashboard/#video=a%20b%26c&t=0');
    expect(clock(75.9)).toBe('1:15');
    expect(clock(3725)).toBe('1:02:05');
  });
});
