// Long videos through the whole product on its defaults (issue 25): for each length, a 1280x720
// clip with a tone goes through the API process and the four workers (no harness tuning), and
// this prints the wall time, each step's time, the history's event count and its largest
// payload, and the ratio of the media step to a bare ffmpeg encode of the same file.
// Run: `npm run build && npm run bench:long-video -- 10 60` (minutes; default 10). Not part of
// npm test: an hour of 720p is tens of minutes of ffmpeg on two cores. Generated clips are kept in
// $TMPDIR/biblio-bench-clips for the next run; BENCH_BASELINE=0 skips the bare encode.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { VideoStatus } from '../src/app/status';
import { renditionArgs } from '../src/media/ffmpeg-args';
import { lastErrorLine, runProcess } from '../src/media/run-process';
import { STEPS } from '../src/pipeline/catalogue';
import { startHttpStack, type HttpStack } from '../test/support/http-stack';

const minutes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);

const CLIPS = path.join(os.tmpdir(), 'biblio-bench-clips');
const BASELINE = process.env.BENCH_BASELINE !== '0';

async function ffmpeg(args: string[]): Promise<void> {
  const res = await runProcess('ffmpeg', ['-hide_banner', '-nostdin', '-y', '-v', 'error', ...args]);
  if (res.code !== 0) throw new Error(`ffmpeg: ${lastErrorLine(res.stderrTail)}`);
}

/**
 * `seconds` of 1280x720 at ~1 Mbit/s (a talk or a screen recording; a phone's 8 Mbit/s would put
 * an hour past MAX_SOURCE_BYTES): one minute encoded, then repeated with the concat demuxer
 * (timestamps continue), so an hour is generated in seconds.
 */
async function makeClip(file: string, seconds: number): Promise<void> {
  const unit = `${file}.unit.mp4`;
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30:duration=60'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=60'],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', unit],
  ]);
  const list = `${file}.txt`;
  await writeFile(list, `file '${path.basename(unit)}'\n`.repeat(Math.ceil(seconds / 60)));
  await ffmpeg(['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', '-t', String(seconds), file]);
  await Promise.all([rm(unit), rm(list)]);
}

/** The baseline: the product's rendition encode of the same file, run bare (no Temporal, no segments, no HLS). */
export async function bareEncodeMs(input: string, out: string): Promise<number> {
  const began = Date.now();
  const res = await runProcess('ffmpeg', renditionArgs({ input, output: out, preset: 'veryfast', threads: 0, maxHeight: 720 }));
  if (res.code !== 0) throw new Error(`bare encode: ${lastErrorLine(res.stderrTail)}`);
  return Date.now() - began;
}

async function run(stack: HttpStack, videoId: string, file: string) {
  const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };
  const began = Date.now();
  const res = await fetch(`${stack.apiUrl}/videos`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ videoId, source: { kind: 'file', path: file } }),
  });
  if (!res.ok) throw new Error(`POST /videos ${res.status}: ${await res.text()}`);
  for (;;) {
    const status = (await (await fetch(`${stack.apiUrl}/videos/${videoId}`, { headers })).json()) as VideoStatus;
    if (status.status === 'ready' || status.status === 'failed') return { status, wallMs: Date.now() - began };
    await new Promise((r) => setTimeout(r, 5_000));
  }
}

async function historyFacts(stack: HttpStack, workflowId: string) {
  const history = await stack.env.client.workflow.getHandle(workflowId).fetchHistory();
  // The largest payload as stored (encoded by the project's codec): every Uint8Array in the events.
  let largest = 0;
  const walk = (v: unknown, depth: number): void => {
    if (v instanceof Uint8Array) largest = Math.max(largest, v.byteLength);
    else if (v && typeof v === 'object' && depth < 12) for (const x of Object.values(v)) walk(x, depth + 1);
  };
  for (const e of history.events ?? []) walk(e, 0);
  return { events: history.events?.length ?? 0, largestPayloadBytes: largest };
}

async function main() {
  const lengths = minutes.length ? minutes : [10];
  await mkdir(CLIPS, { recursive: true });
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'biblio-bench-long-'));
  const stack = await startHttpStack('bench-long', { productDefaults: true });
  const rows: string[] = [];
  try {
    for (const m of lengths) {
      const name = `long-${m}m.mp4`;
      const file = path.join(stack.ingestDir, name);
      const cached = path.join(CLIPS, name);
      if (!existsSync(cached)) {
        process.stdout.write(`generating ${m} min of 1280x720… `);
        await makeClip(`${cached}.part.mp4`, m * 60);
        await rename(`${cached}.part.mp4`, cached);
      }
      await copyFile(cached, file);
      const bare = BASELINE ? await bareEncodeMs(file, path.join(scratch, `bare-${m}.mp4`)) : NaN;
      console.log(`${BASELINE ? `bare encode ${(bare / 1000).toFixed(1)} s` : 'bare encode skipped'}; running the pipeline…`);
      const { status, wallMs } = await run(stack, `long-${m}m`, name);
      const steps = STEPS.map((s) => {
        const r = status.steps[s];
        return r?.finishedAt ? `${s} ${((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000).toFixed(1)} s` : `${s} -`;
      });
      const h = await historyFacts(stack, status.workflowId);
      const transcode = status.steps.transcode;
      const mediaMs = transcode?.finishedAt ? Date.parse(transcode.finishedAt) - Date.parse(transcode.startedAt) : NaN;
      rows.push(
        `${m} min: ${status.status}${status.lastError ? ` (${status.lastError.type}: ${status.lastError.message})` : ''}, ` +
          `wall ${(wallMs / 1000).toFixed(1)} s; ${steps.join(', ')}; ${BASELINE ? `media step / bare encode ${(mediaMs / bare).toFixed(2)}; ` : ''}` +
          `history ${h.events} events, largest payload ${h.largestPayloadBytes} B; analysis ${status.analysis}`,
      );
      console.log(rows[rows.length - 1]);
    }
  } finally {
    await stack.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  console.log(`\n${rows.join('\n')}`);
}

if (require.main === module)
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
