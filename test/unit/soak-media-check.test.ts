import { injectFault } from '../../bench/soak/faults';
import { checkInvariants, type Snapshot } from '../../bench/soak/invariants';
import { durationOff, ladderProblems, mapLimit, mp4Problems, type RungProbe } from '../../bench/soak/media-check';
import { objectsNaming } from '../../bench/soak/object-store';
import type { UploadSpec } from '../../bench/soak/schedule';
import type { SoakStack } from '../../bench/soak/soak-stack';

const rung = (over: Partial<RungProbe> = {}): RungProbe => ({
  name: '240p',
  declared: { width: 426, height: 240 },
  playlistSec: 6,
  mediaSec: 6.02,
  video: { width: 426, height: 240 },
  audio: true,
  ...over,
});
const withAudio = { durationSec: 6, hasAudio: true };

test('a ladder whose every rung matches its source has no problem', () => {
  expect(
    ladderProblems([rung(), rung({ name: '120p', declared: { width: 214, height: 120 }, video: { width: 214, height: 120 } })], withAudio),
  ).toEqual([]);
  expect(ladderProblems([rung({ audio: false })], { durationSec: 6, hasAudio: false })).toEqual([]);
});

test('a rung shorter than its source is named, by its playlist and by its segments', () => {
  expect(ladderProblems([rung(), rung({ name: '360p', declared: undefined, mediaSec: 3.9 })], withAudio)).toEqual([
    "HLS rung 360p's segments last 3.9 s, its source 6 s",
  ]);
  expect(ladderProblems([rung({ playlistSec: 4 })], withAudio)).toEqual(["HLS rung 240p's playlist lasts 4 s, its source 6 s"]);
  // Within 10 % or 0.5 s is the same length (an encode's last frame, AAC priming).
  expect(ladderProblems([rung({ playlistSec: 5.6, mediaSec: 6.45 })], withAudio)).toEqual([]);
});

test('a rung of the wrong size, without video, or whose audio does not follow the source is named', () => {
  expect(ladderProblems([rung({ video: { width: 640, height: 360 } })], withAudio)).toEqual([
    'HLS rung 240p is 640x360, the master declares 426x240',
  ]);
  expect(ladderProblems([rung({ video: undefined })], withAudio)).toEqual(['HLS rung 240p has no video stream']);
  expect(ladderProblems([rung({ audio: false })], withAudio)).toEqual(['HLS rung 240p has no audio, its source has']);
  expect(ladderProblems([rung()], { durationSec: 6, hasAudio: false })).toEqual(['HLS rung 240p has audio, its source has none']);
  expect(ladderProblems([rung({ error: 'seg_00001.m4s answered 404' })], withAudio)).toEqual(['HLS rung 240p: seg_00001.m4s answered 404']);
  expect(ladderProblems([], withAudio)).toEqual(['the HLS master lists no rung']);
});

test('the MP4: no video or the wrong length is a problem; an unknown source length is not compared', () => {
  expect(mp4Problems({ durationSec: 6.1, video: true, audio: true }, withAudio)).toEqual([]);
  expect(mp4Problems({ durationSec: 2, video: false, audio: true }, withAudio)).toEqual([
    'the MP4 has no video stream',
    'MP4 lasts 2 s, its source 6 s',
  ]);
  expect(mp4Problems({ durationSec: 2, video: true, audio: true }, { hasAudio: true })).toEqual([]);
  expect(durationOff(undefined, 6)).toBe(true);
});

test('a ladder problem is a mediaVerified violation for that video', () => {
  const upload: UploadSpec = {
    id: 'soak-1-0000',
    atSec: 0,
    source: 'file',
    media: { kind: 'valid', durationSec: 6, height: 720, shape: 'plain' },
  };
  const detail = ladderProblems([rung({ mediaSec: 3 })], withAudio).join('; ');
  const snapshot: Snapshot = {
    uploads: [upload],
    deletedByOperator: new Set(),
    outcomes: new Map([[upload.id, { status: 'ready', analysis: 'complete' }]]),
    rows: new Map([[upload.id, 1]]),
    points: new Map([[upload.id, 1]]),
    expectedPoints: () => 1,
    ledger: new Map(),
    billed: new Map(),
    repeatedPaid: [],
    misattributedPaid: [],
    repairBound: 1,
    ffmpegPids: [],
    scratchFiles: [],
    openMultipart: [],
    objectsOfDeleted: new Map(),
    media: new Map([[upload.id, { ok: false, detail }]]),
    statusSamples: [],
    replay: [],
    expiringSources: new Map(),
  };
  expect(checkInvariants(snapshot)).toEqual([
    { invariant: 'mediaVerified', videoId: upload.id, detail: "HLS rung 240p's segments last 3 s, its source 6 s" },
  ]);
});

test('the objects of a deleted video are the keys that name it, and only it', () => {
  const keys = ['media/soak-1-0001/hls/240p/init.mp4', 'uploads/soak-1-0001/abc', 'media/soak-1-0002/rendition.mp4'];
  expect(objectsNaming(keys, ['soak-1-0001', 'soak-1-0003'])).toEqual(
    new Map([
      ['soak-1-0001', ['media/soak-1-0001/hls/240p/init.mp4', 'uploads/soak-1-0001/abc']],
      ['soak-1-0003', []],
    ]),
  );
});

test('mapLimit keeps the order and never runs more than its limit at once', async () => {
  let running = 0;
  let most = 0;
  const out = await mapLimit([30, 5, 20, 1, 10], 2, async (ms) => {
    running += 1;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, ms));
    running -= 1;
    return ms * 2;
  });
  expect(out).toEqual([60, 10, 40, 2, 20]);
  expect(most).toBe(2);
});

test('restart-minio on the disk store is recorded as not injected, with the reason', async () => {
  const soak = { objects: { backend: 'local', problem: 'no MinIO binary (test)' } } as unknown as SoakStack;
  const rec = await injectFault(
    { kind: 'restart-minio', atSec: 1, forSec: 5 },
    { soak, now: () => 1, submitted: async () => true, markDeleted: () => undefined, stopped: new Set() },
  );
  expect(rec).toMatchObject({ injected: false, note: 'not injected: no MinIO binary (test)' });
});
