import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseProgressLine, probeArgs, renditionArgs } from '../../src/media/ffmpeg-args';
import { interpretProbe } from '../../src/media/probe';
import { lastErrorLine, runProcess } from '../../src/media/run-process';
import { makeSampleClip } from '../../src/media/sample-clip';

// The pure builder (test/unit/ffmpeg-args.test.ts) is only trustworthy if ffmpeg accepts what it
// builds: run it on tiny clips.
interface ProbedStream {
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
}

async function ffprobe(file: string): Promise<{ json: string; streams: ProbedStream[] }> {
  const res = await runProcess('ffprobe', probeArgs(file));
  if (res.code !== 0) throw new Error(`ffprobe ${file} failed: ${lastErrorLine(res.stderrTail)}`);
  const parsed = JSON.parse(res.stdout) as { streams?: ProbedStream[] };
  return { json: res.stdout, streams: parsed.streams ?? [] };
}

async function transcode(input: string, output: string, onProgress?: (sec: number) => void): Promise<void> {
  const args = renditionArgs({ input, output, preset: 'ultrafast', threads: 1, maxHeight: 720 });
  const res = await runProcess('ffmpeg', args, {
    onStdoutLine: (line) => {
      const sec = parseProgressLine(line);
      if (sec !== undefined) onProgress?.(sec);
    },
  });
  if (res.code !== 0) {
    // The last line is only "Conversion failed!": show the lines that say why.
    const why = res.stderrTail
      .split('\n')
      .filter((l) => /error|divisible|invalid/i.test(l))
      .slice(-3)
      .join(' | ');
    throw new Error(`ffmpeg rejected renditionArgs (exit ${res.code}): ${why || lastErrorLine(res.stderrTail)}`);
  }
}

describe('renditionArgs run through real ffmpeg', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-ffargs-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('turns a 1 s 160x120 clip with audio into a playable h264/yuv420p/aac mp4 of the same size', async () => {
    const src = path.join(dir, 'with audio.mp4');
    const out = path.join(dir, `rendition "a" it's.mp4`);
    await makeSampleClip(src, { seconds: 1, width: 160, height: 120, audio: true });

    await transcode(src, out);

    const { json, streams } = await ffprobe(out);
    const verdict = interpretProbe(json);
    expect(verdict).toMatchObject({ ok: true, facts: { videoCodec: 'h264', audioCodec: 'aac', width: 160, height: 120 } });
    const video = streams.find((s) => s.codec_type === 'video');
    expect(video?.pix_fmt).toBe('yuv420p');
  });

  it('reports progress lines that parse to about the clip duration', async () => {
    const src = path.join(dir, 'progress.mp4');
    await makeSampleClip(src, { seconds: 1, width: 160, height: 120, audio: false });
    const seen: number[] = [];

    await transcode(src, path.join(dir, 'progress-out.mp4'), (sec) => seen.push(sec));

    expect(seen.length).toBeGreaterThan(0);
    const last = seen.at(-1) as number;
    expect(last).toBeGreaterThan(0.5);
    expect(last).toBeLessThan(1.5);
  });

  it('encodes a silent clip (no audio stream) without failing on the optional audio map', async () => {
    const src = path.join(dir, 'silent.mp4');
    const out = path.join(dir, 'silent-out.mp4');
    // testsrc2 rounds 161x121 to an even size itself; this case is about the missing audio.
    await makeSampleClip(src, { seconds: 1, width: 161, height: 121, audio: false });

    await transcode(src, out);

    const { json, streams } = await ffprobe(out);
    const verdict = interpretProbe(json);
    expect(verdict).toMatchObject({ ok: true, facts: { videoCodec: 'h264', audioCodec: null } });
    expect(streams.find((s) => s.codec_type === 'video')?.pix_fmt).toBe('yuv420p');
  });

  it('encodes a source with odd dimensions (161x121, 4:4:4) to even dimensions in yuv420p', async () => {
    const src = path.join(dir, 'odd.mp4');
    await makeSampleClip(src, { seconds: 1, width: 161, height: 121, audio: false, pixelFormat: 'yuv444p' });
    const source = await ffprobe(src);
    expect(source.streams.find((s) => s.codec_type === 'video')).toMatchObject({ width: 161, height: 121 });
    const out = path.join(dir, 'odd-out.mp4');

    await transcode(src, out);

    expect((await stat(out)).size).toBeGreaterThan(0);
    const { json, streams } = await ffprobe(out);
    const verdict = interpretProbe(json);
    expect(verdict.ok).toBe(true);
    const video = streams.find((s) => s.codec_type === 'video');
    expect(video?.codec_name).toBe('h264');
    expect(video?.pix_fmt).toBe('yuv420p');
    expect((video?.width ?? 1) % 2).toBe(0);
    expect((video?.height ?? 1) % 2).toBe(0);
  });
});
