import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseProgressLine, probeArgs, renditionArgs, thumbnailTime, type RenditionOptions } from '../../src/media/ffmpeg-args';
import { interpretProbe } from '../../src/media/probe';
import { lastErrorLine, runProcess } from '../../src/media/run-process';
import { makeSampleClip } from '../../src/media/sample-clip';

const base: RenditionOptions = {
  input: '/in/source.mov',
  output: '/out/rendition.mp4',
  preset: 'veryfast',
  threads: 0,
  maxHeight: 720,
};

/** The value that follows `flag` in an argv list (undefined when the flag is absent). */
function valueAfter(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Every value that follows an occurrence of `flag`. */
function valuesAfter(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag && i + 1 < args.length ? [args[i + 1] as string] : []));
}

describe('renditionArgs', () => {
  it('converts the picture to 8-bit 4:2:0 (yuv420p) in the video filter', () => {
    const vf = valueAfter(renditionArgs(base), '-vf');
    expect(vf).toMatch(/(^|,)format=yuv420p(,|$)/);
  });

  it('scales with an even-width expression (-2) and never upscales past the source height', () => {
    const vf = valueAfter(renditionArgs({ ...base, maxHeight: 480 }), '-vf');
    expect(vf).toContain('scale=-2:');
    expect(vf).toContain('min(480,ih)');
  });

  it('encodes video with libx264 and audio with aac', () => {
    const args = renditionArgs(base);
    expect(valueAfter(args, '-c:v')).toBe('libx264');
    expect(valueAfter(args, '-c:a')).toBe('aac');
  });

  it('moves the moov atom to the front (+faststart) of an mp4 container', () => {
    const args = renditionArgs(base);
    expect(valueAfter(args, '-movflags')).toBe('+faststart');
    expect(valueAfter(args, '-f')).toBe('mp4');
  });

  it('passes input and output as single argv entries even with spaces and quotes in the names', () => {
    const input = `/tmp/my "holiday" clip's final cut.mov`;
    const output = '/tmp/out dir/ren dition; rm -rf ~.mp4';
    const args = renditionArgs({ ...base, input, output });
    expect(valueAfter(args, '-i')).toBe(input);
    expect(args.at(-1)).toBe(output);
    expect(args.filter((a) => a === input)).toHaveLength(1);
    expect(args.filter((a) => a === output)).toHaveLength(1);
  });

  it('maps the first video stream and the first audio stream only if there is one (0:a:0?)', () => {
    expect(valuesAfter(renditionArgs(base), '-map')).toEqual(['0:v:0', '0:a:0?']);
  });

  it('honours the preset and the thread count it is given', () => {
    const args = renditionArgs({ ...base, preset: 'ultrafast', threads: 3 });
    expect(valueAfter(args, '-preset')).toBe('ultrafast');
    expect(valueAfter(args, '-threads')).toBe('3');
  });

  it('writes machine-readable progress to stdout and never reads stdin', () => {
    const args = renditionArgs(base);
    expect(valueAfter(args, '-progress')).toBe('pipe:1');
    expect(args).toContain('-nostdin');
  });
});

describe('probeArgs', () => {
  it('asks for JSON with format and streams and keeps the input one argv entry', () => {
    const input = '/tmp/a b "c".mp4';
    const args = probeArgs(input);
    expect(valueAfter(args, '-print_format')).toBe('json');
    expect(args).toEqual(expect.arrayContaining(['-show_format', '-show_streams']));
    expect(args.at(-1)).toBe(input);
  });
});

describe('thumbnailTime', () => {
  it('picks 0 for a zero-length clip', () => {
    expect(thumbnailTime(0)).toBe(0);
  });

  it('picks 0 for a clip of a few frames (0.1 s)', () => {
    expect(thumbnailTime(0.1)).toBe(0);
  });

  it('picks 0 when the duration is unknown (NaN or Infinity)', () => {
    expect(thumbnailTime(Number.NaN)).toBe(0);
    expect(thumbnailTime(Number.POSITIVE_INFINITY)).toBe(0);
  });

  it('picks a point inside a 2 s clip, a third of the way in', () => {
    const t = thumbnailTime(2);
    expect(t).toBeCloseTo(2 / 3, 6);
    expect(t).toBeLessThan(2);
  });

  it('picks 1 s for a long clip', () => {
    expect(thumbnailTime(3600)).toBe(1);
  });

  it('stays inside the clip for every duration from just above the threshold upward', () => {
    for (const d of [0.21, 0.25, 0.5, 1, 1.5, 2.9, 3, 3.1, 10, 86_400]) {
      const t = thumbnailTime(d);
      expect(t).toBeGreaterThanOrEqual(0);
      expect(t).toBeLessThan(d);
    }
  });
});

describe('parseProgressLine', () => {
  it('reads out_time_us as microseconds', () => {
    expect(parseProgressLine('out_time_us=1500000')).toBe(1.5);
  });

  it("reads out_time_ms as microseconds too (ffmpeg's historical misnomer)", () => {
    expect(parseProgressLine('out_time_ms=2250000')).toBe(2.25);
  });

  it('tolerates surrounding whitespace and a CR line ending', () => {
    expect(parseProgressLine('  out_time_us=1000000\r')).toBe(1);
  });

  it('ignores the N/A placeholder', () => {
    expect(parseProgressLine('out_time=N/A')).toBeUndefined();
    expect(parseProgressLine('out_time_us=N/A')).toBeUndefined();
    expect(parseProgressLine('out_time_ms=N/A')).toBeUndefined();
  });

  it('ignores the human-readable out_time key', () => {
    expect(parseProgressLine('out_time=00:00:01.500000')).toBeUndefined();
  });

  it('ignores other progress keys', () => {
    for (const line of ['frame=25', 'fps=0.00', 'total_size=1024', 'speed=2.5x', 'progress=continue', 'progress=end']) {
      expect(parseProgressLine(line)).toBeUndefined();
    }
  });

  it('ignores garbage, empty lines and negative times', () => {
    for (const line of ['', 'garbage', 'out_time_us=', 'out_time_us=12abc', 'xout_time_us=5', 'out_time_us=-5']) {
      expect(parseProgressLine(line)).toBeUndefined();
    }
  });
});

// ---------------------------------------------------------------------------------------
// The pure builder is only trustworthy if ffmpeg accepts it: run it on tiny clips.
// ---------------------------------------------------------------------------------------

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
