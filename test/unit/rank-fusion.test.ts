import { maxFusedScore, reciprocalRankFusion, RRF_K } from '../../src/app/rank-fusion';

describe('reciprocal rank fusion', () => {
  test('scores an item 1/(k + rank) per list that holds it', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b'],
      ['b', 'c'],
    ]);
    const score = Object.fromEntries(fused.map((f) => [f.id, f.score]));
    expect(score.a).toBeCloseTo(1 / 61, 12);
    expect(score.b).toBeCloseTo(1 / 62 + 1 / 61, 12);
    expect(score.c).toBeCloseTo(1 / 62, 12);
    expect(fused.map((f) => f.id)).toEqual(['b', 'a', 'c']);
    expect(fused.find((f) => f.id === 'b')?.ranks).toEqual([2, 1]);
    expect(fused.find((f) => f.id === 'c')?.ranks).toEqual([null, 2]);
  });

  test('with k = 60 agreement wins: 30th in both lists beats first in one', () => {
    const filler = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
    const fused = reciprocalRankFusion([
      ['solo', ...filler('x', 28), 'both'],
      [...filler('y', 29), 'both'],
    ]);
    expect(fused[0]?.id).toBe('both');
    expect(fused[1]?.id).toBe('solo');
  });

  test('a smaller k lets the top of one list win instead', () => {
    const fused = reciprocalRankFusion(
      [
        ['solo', 'x', 'both'],
        ['y', 'z', 'both'],
      ],
      0,
    );
    expect(fused[0]?.id).toBe('solo');
  });

  test('one list keeps its order; an empty list changes nothing', () => {
    expect(reciprocalRankFusion([['c', 'a', 'b'], []]).map((f) => f.id)).toEqual(['c', 'a', 'b']);
    expect(reciprocalRankFusion([])).toEqual([]);
  });

  test('a duplicate within one list counts once, at its first position', () => {
    const [only] = reciprocalRankFusion([['a', 'a', 'a']]);
    expect(only).toEqual({ id: 'a', score: 1 / 61, ranks: [1] });
  });

  test('equal scores are ordered by best single rank, then id: the order never depends on input order', () => {
    const one = reciprocalRankFusion([
      ['a', 'b'],
      ['b', 'a'],
    ]).map((f) => f.id);
    const two = reciprocalRankFusion([
      ['b', 'a'],
      ['a', 'b'],
    ]).map((f) => f.id);
    expect(one).toEqual(['a', 'b']);
    expect(two).toEqual(['a', 'b']);
  });

  test('first in every list is the maximum score', () => {
    const [top] = reciprocalRankFusion([['a'], ['a']]);
    expect(top?.score).toBeCloseTo(maxFusedScore(2), 12);
    expect(maxFusedScore(1, RRF_K)).toBeCloseTo(1 / 61, 12);
  });

  test('refuses a negative or infinite k', () => {
    expect(() => reciprocalRankFusion([['a']], -1)).toThrow(RangeError);
    expect(() => reciprocalRankFusion([['a']], Infinity)).toThrow(RangeError);
  });
});
