import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A real local speech model behind the fault server's /v1/audio/transcriptions (issue 30):
 * CMU PocketSphinx with its US English model, both Debian packages (pocketsphinx,
 * pocketsphinx-en-us; scripts/setup.sh installs them with espeak-ng for the tests). It hears
 * the uploaded chunk and answers OpenAI's verbose_json: one segment per utterance, timed from
 * the start of the chunk (as whisper times them), language 'english'. Recognition of espeak's
 * voice is rough, but the utterance times are the model's own: what the product's offset
 * arithmetic must put on the video's clock.
 */
export const POCKETSPHINX = '/usr/bin/pocketsphinx_continuous';
export const ESPEAK = '/usr/bin/espeak-ng';

export function localSpeechAvailable(): boolean {
  return existsSync(POCKETSPHINX) && existsSync(ESPEAK);
}

export interface VerboseTranscription {
  text: string;
  language: string;
  duration: number;
  segments: { id: number; start: number; end: number; text: string }[];
}

/** Transcribes one audio file's bytes (any format ffmpeg reads). */
export async function pocketsphinxTranscribe(
  audio: Buffer,
  ffmpegPath = process.env.FFMPEG_PATH ?? 'ffmpeg',
): Promise<VerboseTranscription> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'biblio-speech-'));
  try {
    const input = path.join(dir, 'chunk.audio');
    const wav = path.join(dir, 'chunk.wav');
    await writeFile(input, audio);
    // The model's format: 16 kHz mono 16-bit PCM.
    await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-y', '-i', input, '-ac', '1', '-ar', '16000', '-c:a', 'pcm_s16le', wav]);
    const { stdout: probe } = await run(ffmpegPath.replace(/ffmpeg$/, 'ffprobe'), [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'default=nw=1:nk=1',
      wav,
    ]).catch(() => ({ stdout: '0' }));
    const { stdout } = await run(POCKETSPHINX, ['-infile', wav, '-time', 'yes', '-logfn', '/dev/null'], { maxBuffer: 16 * 1024 * 1024 });
    const segments = parseUtterances(stdout);
    return {
      text: segments.map((s) => s.text).join(' '),
      language: 'english',
      duration: Number(probe.trim()) || 0,
      segments,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * pocketsphinx_continuous -time yes prints, per utterance, its hypothesis and then one
 * `word start end confidence` line per word, between `<s>` and `</s>`. A segment spans the
 * utterance's first to last real word (fillers like <sil>, [NOISE] and the markers skipped).
 */
export function parseUtterances(stdout: string): VerboseTranscription['segments'] {
  const out: VerboseTranscription['segments'] = [];
  let words: { w: string; start: number; end: number }[] = [];
  const flush = () => {
    if (words.length > 0) {
      out.push({
        id: out.length,
        start: words[0]!.start,
        end: words.at(-1)!.end,
        text: words.map((w) => w.w.replace(/\(\d+\)$/, '')).join(' '),
      });
    }
    words = [];
  };
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (\d+\.\d+) (\d+\.\d+) (\d+\.\d+)$/.exec(line.trim());
    if (!m) continue;
    const [, w, start, end] = m;
    if (w === '<s>') words = [];
    else if (w === '</s>') flush();
    else if (!/^(<.*>|\[.*\])$/.test(w!)) words.push({ w: w!, start: Number(start), end: Number(end) });
  }
  flush();
  return out;
}
