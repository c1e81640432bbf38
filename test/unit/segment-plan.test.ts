import { mkdir, mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MAX_SEGMENTS, parseKeyframePackets, planDigest, planSegments, worthSegmenting } from '../../src/media/segment-plan';
import { sweepStaleSegmentAreas } from '../../src/media/segment-area';

function covers(segs: { startSec: number; endSec: number; index: number }[], duration: number) {
  expect(segs[0]?.startSec).toBe(0);
  expect(segs[segs.length - 1]?.endSec).toBe(duration);
  segs.forEach((s, i) => {
    expect(s.index).toBe(i);
    expect(s.endSec).toBeGreaterThan(s.startSec);
    if (i > 0) expect(s.startSec).toBe(segs[i - 1]?.endSec);
  });
}

test('cuts on keyframes every target length when the source has them', () => {
  const keys = Array.from({ length: 18 }, (_, i) => i * 10);
  const segs = planSegments({ durationSec: 180, keyframes: keys, targetSec: 10 });
  expect(segs).toHaveLength(18);
  covers(segs, 180);
  expect(segs.map((s) => s.startSec)).toEqual(keys);
});

test('picks the keyframe nearest the target, not just the first one after it', () => {
  const segs = planSegments({ durationSec: 40, keyframes: [4, 9.6, 12, 21, 30.2], targetSec: 10 });
  covers(segs, 40);
  expect(segs.map((s) => s.startSec)).toEqual([0, 9.6, 21, 30.2]);
});

test('cuts at the target when no keyframe lies within half a target of it', () => {
  const segs = planSegments({ durationSec: 35, keyframes: [0, 2], targetSec: 10 });
  covers(segs, 35);
  expect(segs.map((s) => s.startSec)).toEqual([0, 10, 20]);
  expect(segs[2]?.endSec).toBe(35); // 15 s tail: under 1.5 targets, kept whole
});

test('a short tail joins the last segment instead of becoming a sliver', () => {
  const segs = planSegments({ durationSec: 30.3, keyframes: [10, 20, 30], targetSec: 10 });
  covers(segs, 30.3);
  expect(segs).toHaveLength(3);
  expect(segs[2]).toMatchObject({ startSec: 20, endSec: 30.3 });
});

test('ignores keyframes outside the clip and duplicates', () => {
  const segs = planSegments({ durationSec: 25, keyframes: [-1, 10, 10, 99, NaN], targetSec: 10 });
  covers(segs, 25);
  expect(segs.map((s) => s.startSec)).toEqual([0, 10]);
});

test('rejects nonsense input rather than planning nothing', () => {
  expect(() => planSegments({ durationSec: 0, keyframes: [], targetSec: 10 })).toThrow(RangeError);
  expect(() => planSegments({ durationSec: 10, keyframes: [], targetSec: 0 })).toThrow(RangeError);
  expect(() => planSegments({ durationSec: 10, keyframes: [], targetSec: 1, maxSegments: 0 })).toThrow(RangeError);
});

// Issue 25: each segment costs the run's history up to 6 events, whatever the video's length.
test('a 2-hour video keeps 10 s segments; a 4-hour one gets at most MAX_SEGMENTS longer ones', () => {
  const everyTwoSec = (sec: number) => Array.from({ length: sec / 2 }, (_, i) => i * 2);
  const twoHours = planSegments({ durationSec: 7200, keyframes: everyTwoSec(7200), targetSec: 10 });
  expect(twoHours).toHaveLength(720);
  covers(twoHours, 7200);
  const fourHours = planSegments({ durationSec: 14_400, keyframes: everyTwoSec(14_400), targetSec: 10 });
  expect(fourHours.length).toBeLessThanOrEqual(MAX_SEGMENTS);
  expect(fourHours.length).toBeGreaterThan(MAX_SEGMENTS * 0.9);
  covers(fourHours, 14_400);
  expect(Math.max(...fourHours.map((s) => s.endSec - s.startSec))).toBeLessThanOrEqual(30);
});

test('keyframes that shorten every segment still cannot push a plan past its bound', () => {
  // A keyframe every 0.55 target: the snapping cuts short segments, more than duration / target.
  const keys = Array.from({ length: 2000 }, (_, i) => i * 5.5);
  const segs = planSegments({ durationSec: 10_000, keyframes: keys, targetSec: 10, maxSegments: 100 });
  expect(segs.length).toBeLessThanOrEqual(100);
  covers(segs, 10_000);
});

test('the plan digest names the source key and every span', () => {
  const segs = planSegments({ durationSec: 40, keyframes: [], targetSec: 10 });
  expect(planDigest('k', segs)).toBe(
    planDigest(
      'k',
      segs.map((s) => ({ ...s })),
    ),
  );
  expect(planDigest('k', segs)).not.toBe(planDigest('other', segs));
  expect(planDigest('k', segs)).not.toBe(
    planDigest(
      'k',
      segs.map((s, i) => (i === 1 ? { ...s, startSec: 10.5 } : s)),
    ),
  );
});

test('segments only videos of at least two target lengths', () => {
  expect(worthSegmenting(19.9, 10)).toBe(false);
  expect(worthSegmenting(20, 10)).toBe(true);
  expect(worthSegmenting(NaN, 10)).toBe(false);
});

test('reads keyframe times from ffprobe packet csv', () => {
  expect(parseKeyframePackets('0.000000,K__\n0.040000,___\n10.000000,K__\n\nN/A,K__\n')).toEqual([0, 10]);
});

describe('sweepStaleSegmentAreas', () => {
  test('removes segment work areas untouched for the age limit and keeps recent ones', async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'biblio-sweep-seg-'));
    try {
      await mkdir(path.join(tmp, 'segments', 'old', 'x'), { recursive: true });
      await mkdir(path.join(tmp, 'segments', 'new'), { recursive: true });
      const dayAgo = new Date(Date.now() - 25 * 3600 * 1000);
      await utimes(path.join(tmp, 'segments', 'old'), dayAgo, dayAgo);
      expect(await sweepStaleSegmentAreas(tmp, 24 * 3600 * 1000)).toEqual(['old']);
      expect(await readdir(path.join(tmp, 'segments'))).toEqual(['new']);
      // No segments dir at all: nothing to do, no error.
      expect(await sweepStaleSegmentAreas(path.join(tmp, 'missing'), 1)).toEqual([]);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
