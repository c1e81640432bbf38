import { parseProgressLine, probeArgs, renditionArgs, thumbnailTime, type RenditionOptions } from '../../src/media/ffmpeg-args';

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

  it("keeps the source's frame times: variable frame rate, the source stream's time base for the encoder", () => {
    const args = renditionArgs(base);
    expect(valueAfter(args, '-fps_mode')).toBe('vfr');
    expect(valueAfter(args, '-enc_time_base:v')).toBe('-1');
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
