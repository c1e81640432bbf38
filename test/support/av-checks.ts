import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What a clean decode prints on stderr at `-v error`: nothing. */
export async function decodeErrors(file: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-nostdin', '-v', 'error', '-threads', '1', '-i', file, '-f', 'null', '-'], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return stderr.trim();
}

export interface StreamTimes {
  formatSec: number;
  video: { start: number; duration: number; frameSec: number; frames: number };
  audio?: { start: number; duration: number };
}

/** Start times and durations of the first video and audio streams, as ffprobe reports them. */
export async function streamTimes(file: string): Promise<StreamTimes> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-count_packets',
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    file,
  ]);
  const probe = JSON.parse(stdout) as {
    streams: { codec_type: string; start_time?: string; duration?: string; avg_frame_rate?: string; nb_read_packets?: string }[];
    format: { duration: string };
  };
  const v = probe.streams.find((s) => s.codec_type === 'video');
  const a = probe.streams.find((s) => s.codec_type === 'audio');
  if (!v) throw new Error(`${file} has no video stream`);
  const [num, den] = (v.avg_frame_rate ?? '25/1').split('/').map(Number);
  return {
    formatSec: Number(probe.format.duration),
    video: {
      start: Number(v.start_time),
      duration: Number(v.duration),
      frameSec: (den ?? 1) / (num ?? 25),
      frames: Number(v.nb_read_packets),
    },
    ...(a ? { audio: { start: Number(a.start_time), duration: Number(a.duration) } } : {}),
  };
}
