import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { readDocument, renditionManifestSchema } from '../../src/media/documents';
import { keyframeProbeArgs, sampleClipArgs, streamsAndPacketsProbeArgs } from '../../src/media/ffmpeg-args';
import { copyFileAtomic, moveFileAtomic, replaceDir, scratchName, sweepStaleScratch, writeFileAtomic } from '../../src/media/work-area';
import { segmentAreaOf } from '../../src/media/segment-area';
import { unreadableMedia } from '../../src/activities/media/media-failures';
import { sweepAnalysisScratch } from '../../src/activities/media/analysis-inputs';
import { createWorkStore } from '../../src/media/work-store';
import { localStore } from '../support/media';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-work-area-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  test('replaces the file whole and leaves no temp file beside it', async () => {
    const file = path.join(dir, 'plan.json');
    await writeFile(file, 'old');
    await writeFileAtomic(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
    expect(await readdir(dir)).toEqual(['plan.json']);
  });

  test('removes its temp file and keeps the old content when the write fails', async () => {
    const file = path.join(dir, 'missing-dir', 'plan.json');
    await expect(writeFileAtomic(file, 'x')).rejects.toMatchObject({ code: 'ENOENT' });
    const target = path.join(dir, 'target');
    await mkdir(target);
    // A directory cannot be replaced by a file: the rename fails after the temp file was written.
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['target']);
  });
});

test('copyFileAtomic copies and moveFileAtomic moves, with no temp file left', async () => {
  await writeFile(path.join(dir, 'a'), 'bytes');
  await copyFileAtomic(path.join(dir, 'a'), path.join(dir, 'b'));
  await moveFileAtomic(path.join(dir, 'b'), path.join(dir, 'c'));
  expect((await readdir(dir)).sort()).toEqual(['a', 'c']);
  expect(await readFile(path.join(dir, 'c'), 'utf8')).toBe('bytes');
});

test('replaceDir swaps a directory for its staged successor and removes the old one', async () => {
  await mkdir(path.join(dir, 'hls'));
  await writeFile(path.join(dir, 'hls', 'old.m3u8'), '');
  await mkdir(path.join(dir, 'staging'));
  await writeFile(path.join(dir, 'staging', 'new.m3u8'), '');
  await replaceDir(path.join(dir, 'staging'), path.join(dir, 'hls'), path.join(dir, scratchName('v.old', 1)));
  expect(await readdir(dir)).toEqual(['hls']);
  expect(await readdir(path.join(dir, 'hls'))).toEqual(['new.m3u8']);
});

describe('scratch names', () => {
  test('carry the attempt and the owner pid', () => {
    expect(scratchName('vid-1', 3, 42)).toBe('vid-1.attempt-3.pid-42');
  });

  test("the sweep removes dead owners' scratch dirs, legacy ones without an owner, and keeps live ones", async () => {
    for (const name of [scratchName('gone', 1, 999_999), 'legacy.attempt-2', scratchName('live', 1), 'not-scratch']) {
      await mkdir(path.join(dir, name));
    }
    expect((await sweepStaleScratch(dir)).sort()).toEqual(['gone.attempt-1.pid-999999', 'legacy.attempt-2']);
    expect((await readdir(dir)).sort()).toEqual([scratchName('live', 1), 'not-scratch']);
  });

  // A CI soak found `artifacts/<id>.rendition.attempt-1.pid-N` left by a media worker killed -9
  // while it extracted analysis inputs: the sweep took directories only, and that copy is a file.
  test("the sweep removes a dead owner's scratch file (a fetched rendition) as well as its dirs", async () => {
    await writeFile(path.join(dir, scratchName('v.rendition', 1, 999_999)), 'bytes');
    await writeFile(path.join(dir, scratchName('v.src', 1)), 'live');
    await writeFile(path.join(dir, 'rendition.mp4'), 'not scratch');
    expect(await sweepStaleScratch(dir)).toEqual(['v.rendition.attempt-1.pid-999999']);
    expect((await readdir(dir)).sort()).toEqual(['rendition.mp4', scratchName('v.src', 1)]);
  });

  test("at worker start on S3, every video's dead analysis-input work dirs go (a retry that ran on another host never sweeps them); on the local store only the top level is swept", async () => {
    const dead = path.join(dir, 'v1', scratchName('analysis-inputs', 1, 999_999));
    const live = path.join(dir, 'v2', scratchName('analysis-inputs', 1));
    const published = path.join(dir, 'v3', 'analysis-inputs');
    for (const d of [dead, live, published]) await mkdir(d, { recursive: true });
    await writeFile(path.join(dead, 'rendition.mp4'), 'fetched');
    await writeFile(path.join(dir, scratchName('v4.rendition', 1, 999_999)), 'legacy');

    expect(await sweepAnalysisScratch(dir, { everyVideo: false })).toEqual(['v4.rendition.attempt-1.pid-999999']);
    expect((await readdir(dir)).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(await sweepAnalysisScratch(dir, { everyVideo: true })).toEqual([path.join('v1', 'analysis-inputs.attempt-1.pid-999999')]);
    expect((await readdir(dir)).sort()).toEqual(['v2', 'v3']);
    expect(await readdir(path.join(dir, 'v2'))).toEqual([path.basename(live)]);
    expect(await readdir(path.join(dir, 'v3'))).toEqual(['analysis-inputs']);
  });

  test('a sweep for one video leaves the other videos alone, and `keep` untouched', async () => {
    for (const name of [scratchName('a', 1, 999_999), scratchName('a', 2), scratchName('b', 1, 999_999)]) await mkdir(path.join(dir, name));
    expect(await sweepStaleScratch(dir, { videoId: 'a', keep: scratchName('a', 2) })).toEqual(['a.attempt-1.pid-999999']);
  });
});

describe('on-disk documents', () => {
  const facts = {
    durationSec: 4,
    width: 64,
    height: 48,
    videoCodec: 'h264',
    audioCodec: null,
    frameRate: 25,
    sizeBytes: 10,
    container: 'mov',
  };
  const manifest = { key: 'k', output: { renditionPath: '/m/r.mp4', thumbnailPath: '/m/t.jpg', source: facts, rendition: facts } };

  test('a valid document reads back as written', async () => {
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    expect(await readDocument(path.join(dir, 'manifest.json'), renditionManifestSchema)).toEqual(manifest);
  });

  test.each([
    ['missing', undefined],
    ['not JSON (a write cut short)', '{"key":"k","outp'],
    ['of another shape', JSON.stringify({ key: 'k', output: { renditionPath: 7 } })],
  ])('a %s document reads as absent', async (_what, content) => {
    const file = path.join(dir, 'manifest.json');
    if (content !== undefined) await writeFile(file, content);
    expect(await readDocument(file, renditionManifestSchema)).toBeUndefined();
  });

  test('a damaged sidecar does not vouch for its segment (it is encoded again)', async () => {
    const work = createWorkStore({ storage: localStore(path.join(dir, 'objects')), tmpDir: dir });
    const file = path.join(dir, 'seg-0.mp4');
    await writeFile(file, 'x');
    // An output is kept only while its run's plan is in the store.
    await localStore(path.join(dir, 'objects')).putBytes('work/v1/plan.json', '{}', 'application/json');
    const side = await work.publishOutput('v1', 'seg-0', '.mp4', file, { key: 'k', startSec: 0, endSec: 1, durationSec: 1 });
    expect(side).toMatchObject({ bytes: 1, object: expect.stringMatching(/^work\/v1\/seg-0\.[0-9a-f]+\.mp4$/) });
    expect(await work.finishedOutput('v1', 'seg-0', { key: 'k', startSec: 0, endSec: 1 })).toMatchObject({ durationSec: 1 });
    // Another span or plan: not this output.
    expect(await work.finishedOutput('v1', 'seg-0', { key: 'k2', startSec: 0, endSec: 1 })).toBeUndefined();
    const store = path.join(dir, 'objects', 'work', 'v1');
    await writeFile(path.join(store, 'seg-0.json'), '{"key":"k","startSec":0,');
    expect(await work.finishedOutput('v1', 'seg-0', { key: 'k', startSec: 0, endSec: 1 })).toBeUndefined();
    // A sidecar whose object is gone (or of another size) vouches for nothing either.
    await writeFile(path.join(store, 'seg-0.json'), JSON.stringify(side));
    await writeFile(path.join(dir, 'objects', side.object), 'xx');
    expect(await work.finishedOutput('v1', 'seg-0', { key: 'k', startSec: 0, endSec: 1 })).toBeUndefined();
  });

  test('an output finished after its run removed the work area leaves nothing (a superseded attempt that was cut off)', async () => {
    const work = createWorkStore({ storage: localStore(path.join(dir, 'objects')), tmpDir: dir });
    const file = path.join(dir, 'late.mp4');
    await writeFile(file, 'x');
    await expect(
      work.publishOutput('v9', 'seg-3', '.mp4', file, { key: 'k', startSec: 0, endSec: 1, durationSec: 1 }),
    ).rejects.toMatchObject({
      type: 'TranscodeFailed',
    });
    expect(await readdir(path.join(dir, 'objects', 'work', 'v9')).catch(() => [])).toEqual([]);
  });

  test('a damaged plan reads as missing', async () => {
    const work = createWorkStore({ storage: localStore(path.join(dir, 'objects')), tmpDir: dir });
    await mkdir(path.join(dir, 'objects', 'work', 'v1'), { recursive: true });
    await writeFile(path.join(dir, 'objects', 'work', 'v1', 'plan.json'), '{"key":');
    expect(await work.readPlan('v1')).toBeUndefined();
  });

  test('the single-pass hand-over is found for its own key only, and not when its note is damaged', async () => {
    const work = createWorkStore({ storage: localStore(path.join(dir, 'objects')), tmpDir: dir });
    const fetched = path.join(dir, 'fetched.mp4');
    await writeFile(fetched, 'video');
    await work.handOver('v2', fetched, 'key-1');
    const into = path.join(dir, 'attempt');
    const handed = await work.handedOver('v2', 'key-1', into);
    expect(handed && (await readFile(handed, 'utf8'))).toBe('video');
    expect(await work.handedOver('v2', 'key-2', into)).toBeUndefined();
    await writeFile(path.join(dir, 'objects', 'work', 'v2', 'single-source.json'), 'garbage');
    expect(await work.handedOver('v2', 'key-1', into)).toBeUndefined();
    await work.remove('v2');
    expect(await readdir(path.join(dir, 'objects', 'work', 'v2')).catch(() => [])).toEqual([]);
  });

  test('the local area lives while an activity of the video holds it, and goes with the last', async () => {
    const work = createWorkStore({ storage: localStore(path.join(dir, 'objects')), tmpDir: dir });
    const a = await work.lease('v3');
    const b = await work.lease('v3');
    await mkdir(work.cacheOf('v3'), { recursive: true });
    await writeFile(path.join(work.cacheOf('v3'), 'cached'), 'x');
    await a();
    await a();
    expect(await readdir(work.cacheOf('v3'))).toEqual(['cached']);
    await b();
    expect(await readdir(dir)).not.toContain('segments');
  });

  test('with a linger, the cache outlives the last activity briefly: the next segment reuses it, then it goes', async () => {
    const work = createWorkStore({ storage: localStore(path.join(dir, 'objects')), tmpDir: dir, cacheLingerMs: 300 });
    const first = await work.lease('v5');
    await mkdir(work.cacheOf('v5'), { recursive: true });
    await writeFile(path.join(work.cacheOf('v5'), 'source.abc'), 'x');
    await first();
    const second = await work.lease('v5');
    await new Promise((r) => setTimeout(r, 400));
    expect(await readdir(work.cacheOf('v5'))).toEqual(['source.abc']);
    await second();
    expect(await readdir(work.cacheOf('v5'))).toEqual(['source.abc']);
    await new Promise((r) => setTimeout(r, 600));
    expect(await readdir(dir)).not.toContain('segments');
  });

  test('the video removed by one activity while another of this process works in the area: the area stays until that one ends', async () => {
    // A stale attempt (its worker's lease lapsed) finishing and cleaning up beside its retry, which holds the area.
    const work = createWorkStore({ storage: localStore(path.join(dir, 'objects')), tmpDir: dir, cacheLingerMs: 60_000 });
    const retry = await work.lease('v6');
    await mkdir(work.cacheOf('v6'), { recursive: true });
    await writeFile(path.join(work.cacheOf('v6'), 'source.fetched'), 'x');
    await work.remove('v6');
    expect(await readdir(work.cacheOf('v6'))).toEqual(['source.fetched']);
    // The last holder's end removes it at once (no linger: the video's work is done).
    await retry();
    expect(await readdir(dir)).not.toContain('segments');
  });

  test("removing the video takes the caches of dead processes and this one's, and leaves a live process's", async () => {
    const work = createWorkStore({ storage: localStore(path.join(dir, 'objects')), tmpDir: dir });
    const area = segmentAreaOf(dir, 'v7');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    for (const owner of [`pid-${dead}`, 'pid-1', `pid-${process.pid}`, 'legacy-scratch']) {
      await mkdir(path.join(area, owner), { recursive: true });
      await writeFile(path.join(area, owner, 'x'), 'x');
    }
    await work.remove('v7');
    // pid 1 (init) lives: its worker removes its own cache when its last activity of the video ends.
    expect(await readdir(area)).toEqual(['pid-1']);
  });

  test('releasing removes only this process cache: another worker sharing the tmp dir keeps its own', async () => {
    const work = createWorkStore({ storage: localStore(path.join(dir, 'objects')), tmpDir: dir });
    const other = path.join(segmentAreaOf(dir, 'v4'), 'pid-1');
    await mkdir(other, { recursive: true });
    await writeFile(path.join(other, 'source.abc'), 'x');
    const release = await work.lease('v4');
    await mkdir(work.cacheOf('v4'), { recursive: true });
    await writeFile(path.join(work.cacheOf('v4'), 'source.abc'), 'x');
    await release();
    expect(await readdir(segmentAreaOf(dir, 'v4'))).toEqual(['pid-1']);
    expect(await readdir(other)).toEqual(['source.abc']);
  });
});

describe('argument lists', () => {
  test('the keyframe probe reads the chosen stream, or the first video stream', () => {
    expect(keyframeProbeArgs('in.mp4', 2)).toContain('2');
    expect(keyframeProbeArgs('in.mp4')).toEqual(expect.arrayContaining(['-select_streams', 'v:0', 'in.mp4']));
  });

  test('the segment probe asks for streams and packet times as JSON', () => {
    expect(streamsAndPacketsProbeArgs('s.mp4')).toEqual(expect.arrayContaining(['-of', 'json', 's.mp4']));
  });

  test('a sample clip with odd sides uses the generator and pixel format that keep them', () => {
    const args = sampleClipArgs('out.mp4', { seconds: 2, width: 63, height: 47, audio: false, pixelFormat: 'yuv444p' });
    expect(args).toEqual(expect.arrayContaining(['testsrc=size=63x47:rate=25:duration=2', 'yuv444p', 'out.mp4']));
    expect(args).not.toContain('aac');
  });
});

describe('a file ffprobe could not read', () => {
  test('is InvalidMedia when it is there, and a retryable TranscodeFailed when it vanished (our own copy, removed under us)', async () => {
    const garbage = path.join(dir, 'garbage.mp4');
    await writeFile(garbage, 'not a video');
    const bad = await unreadableMedia(garbage, 'the source', `${garbage}: Invalid data found when processing input`);
    expect(bad).toMatchObject({ type: 'InvalidMedia', nonRetryable: true });
    expect(bad.message).toBe('the source is not readable media: <source>: Invalid data found when processing input');
    const gone = await unreadableMedia(path.join(dir, 'gone.mp4'), 'the source', 'No such file or directory');
    expect(gone).toMatchObject({ type: 'TranscodeFailed', nonRetryable: false });
  });
});
