import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeArgs } from '../../src/media/ffmpeg-args';
import { interpretProbe, type ProbeVerdict } from '../../src/media/probe';
import { lastErrorLine, runProcess } from '../../src/media/run-process';
import { makeSampleClip } from '../../src/media/sample-clip';

/** Runs ffmpeg with the given arguments (quiet, overwrite) and fails loudly if it fails. */
async function ffmpeg(args: string[]): Promise<void> {
  const res = await runProcess('ffmpeg', ['-hide_banner', '-nostdin', '-y', '-v', 'error', ...args]);
  if (res.code !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${lastErrorLine(res.stderrTail)}`);
}

/** Real ffprobe JSON for a file. */
async function ffprobeJson(file: string): Promise<string> {
  const res = await runProcess('ffprobe', probeArgs(file));
  if (res.code !== 0) throw new Error(`ffprobe ${file} failed: ${lastErrorLine(res.stderrTail)}`);
  return res.stdout;
}

function rejection(v: ProbeVerdict): string {
  if (v.ok) throw new Error(`expected a rejection, got facts ${JSON.stringify(v.facts)}`);
  return v.reason;
}

describe('interpretProbe on real ffprobe output', () => {
  let dir: string;
  const file = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-probe-'));
    await makeSampleClip(file('normal.mp4'), { seconds: 2, width: 320, height: 240, audio: true });
    await makeSampleClip(file('silent.mp4'), { seconds: 1, width: 160, height: 120, audio: false });
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=1', '-frames:v', '1', file('still.png')]);
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=1', '-frames:v', '1', file('still.jpg')]);
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', file('tone.m4a')]);
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', file('tone.wav')]);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a normal clip with audio', async () => {
    expect(interpretProbe(await ffprobeJson(file('normal.mp4'))).ok).toBe(true);
  });

  it('reports the duration of a normal clip to within a frame or two', async () => {
    const v = interpretProbe(await ffprobeJson(file('normal.mp4')));
    if (!v.ok) throw new Error(v.reason);
    expect(Math.abs(v.facts.durationSec - 2)).toBeLessThan(0.1);
  });

  it('reports picture size, codecs, frame rate and container of a normal clip', async () => {
    const v = interpretProbe(await ffprobeJson(file('normal.mp4')));
    if (!v.ok) throw new Error(v.reason);
    expect(v.facts).toMatchObject({
      width: 320,
      height: 240,
      videoCodec: 'h264',
      audioCodec: 'aac',
      frameRate: 25,
    });
    expect(v.facts.container).toContain('mp4');
  });

  it('reports the file size that is on disk', async () => {
    const v = interpretProbe(await ffprobeJson(file('normal.mp4')));
    if (!v.ok) throw new Error(v.reason);
    expect(v.facts.sizeBytes).toBe((await stat(file('normal.mp4'))).size);
  });

  it('accepts a silent clip and reports its audio codec as null', async () => {
    const v = interpretProbe(await ffprobeJson(file('silent.mp4')));
    if (!v.ok) throw new Error(v.reason);
    expect(v.facts.audioCodec).toBeNull();
    expect(v.facts.videoCodec).toBe('h264');
  });

  it('rejects a PNG still image as not a video', async () => {
    expect(rejection(interpretProbe(await ffprobeJson(file('still.png'))))).toMatch(/still image/);
  });

  it('rejects a JPEG still image as not a video', async () => {
    expect(rejection(interpretProbe(await ffprobeJson(file('still.jpg'))))).toMatch(/still image/);
  });

  it('rejects an m4a audio-only file: no video stream', async () => {
    expect(rejection(interpretProbe(await ffprobeJson(file('tone.m4a'))))).toMatch(/no video stream/);
  });

  it('rejects a wav audio-only file: no video stream', async () => {
    expect(rejection(interpretProbe(await ffprobeJson(file('tone.wav'))))).toMatch(/no video stream/);
  });
});
