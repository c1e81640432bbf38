import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readDocument, renditionManifestSchema, sidecarSchema } from '../../src/media/documents';
import { finishedOutput, handedOverSource, handOverToSinglePass, readPlan, segmentAreaOf } from '../../src/media/segment-area';
import { keyframeProbeArgs, sampleClipArgs, streamsAndPacketsProbeArgs } from '../../src/media/ffmpeg-args';
import { copyFileAtomic, moveFileAtomic, replaceDir, scratchName, sweepStaleAttemptDirs, writeFileAtomic } from '../../src/media/work-area';

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
    expect((await sweepStaleAttemptDirs(dir)).sort()).toEqual(['gone.attempt-1.pid-999999', 'legacy.attempt-2']);
    expect((await readdir(dir)).sort()).toEqual([scratchName('live', 1), 'not-scratch']);
  });

  test('a sweep for one video leaves the other videos alone, and `keep` untouched', async () => {
    for (const name of [scratchName('a', 1, 999_999), scratchName('a', 2), scratchName('b', 1, 999_999)]) await mkdir(path.join(dir, name));
    expect(await sweepStaleAttemptDirs(dir, { videoId: 'a', keep: scratchName('a', 2) })).toEqual(['a.attempt-1.pid-999999']);
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
    const file = path.join(dir, 'seg-0.mp4');
    await writeFile(file, 'x');
    await writeFile(`${file}.json`, '{"key":"k","startSec":0,');
    expect(await finishedOutput(file, { key: 'k', startSec: 0, endSec: 1 })).toBeUndefined();
    await writeFile(`${file}.json`, JSON.stringify({ key: 'k', startSec: 0, endSec: 1, bytes: 1, durationSec: 1 }));
    expect(await readDocument(`${file}.json`, sidecarSchema)).toMatchObject({ bytes: 1 });
    expect(await finishedOutput(file, { key: 'k', startSec: 0, endSec: 1 })).toMatchObject({ durationSec: 1 });
  });

  test('a damaged plan reads as missing', async () => {
    const area = segmentAreaOf(dir, 'v1');
    await mkdir(area, { recursive: true });
    await writeFile(path.join(area, 'plan.json'), '{"key":');
    expect(await readPlan(area)).toBeUndefined();
  });

  test('the single-pass hand-over is found for its own key only, and not when its note is damaged', async () => {
    const fetched = path.join(dir, 'fetched.mp4');
    await writeFile(fetched, 'video');
    await handOverToSinglePass(dir, 'v2', fetched, 'key-1');
    const handed = await handedOverSource(dir, 'v2', 'key-1');
    expect(handed && (await readFile(handed, 'utf8'))).toBe('video');
    expect(await handedOverSource(dir, 'v2', 'key-2')).toBeUndefined();
    await writeFile(path.join(segmentAreaOf(dir, 'v2'), 'single-source.json'), 'garbage');
    expect(await handedOverSource(dir, 'v2', 'key-1')).toBeUndefined();
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
