import cliProgress from 'cli-progress';
import type { VideoStatus } from '../contracts/http';
import { STEPS } from '../pipeline/catalogue';

/**
 * Live progress of one video: a bar per step (cli-progress, redrawn in place) on a terminal,
 * one line per change otherwise (logs, CI, pipes).
 */
export class StepProgress {
  private readonly multi?: cliProgress.MultiBar;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private lastLine = '';

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    withUpload = false,
  ) {
    if (!stream.isTTY) return;
    this.multi = new cliProgress.MultiBar(
      {
        stream,
        format: '{step} |{bar}| {percentage}% {note}',
        barsize: 30,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        fps: 10,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
    for (const step of withUpload ? ['upload', ...STEPS] : STEPS) {
      this.bars.set(step, this.multi.create(100, 0, { step: step.padEnd(9), note: '' }));
    }
  }

  upload(sent: number, total: number): void {
    const pct = total > 0 ? Math.floor((sent / total) * 100) : 100;
    if (this.multi) this.bars.get('upload')?.update(pct, { note: `${(sent / 1e6).toFixed(1)}/${(total / 1e6).toFixed(1)} MB` });
    else this.line(`upload ${pct}%`);
  }

  update(s: VideoStatus): void {
    const current = s.progress?.step ?? s.step;
    for (const step of STEPS) {
      const record = s.steps?.[step];
      let pct = 0;
      let note = '';
      if (record?.finishedAt || s.status === 'ready') {
        pct = 100;
        note = 'done';
      } else if (current === step || s.step === step) {
        pct = stepPercent(s);
        note = [s.progress?.phase && s.progress.phase !== step ? s.progress.phase : '', record?.queue ? `queue '${record.queue}'` : '']
          .filter(Boolean)
          .join(' ');
        if (s.attempt && s.attempt > 1) note += ` attempt ${s.attempt}`;
        if (s.waitingFor) note += ` ⚠ ${s.waitingFor}`;
        else if (s.lastError && s.status !== 'failed') note += ` last error: ${s.lastError.type}`;
        if (s.status === 'failed') note = `failed: ${s.lastError?.type ?? 'unknown'}`;
      }
      this.bars.get(step)?.update(Math.max(0, Math.min(100, Math.round(pct))), { note: note.trim() });
    }
    if (!this.multi) {
      const pct = s.status === 'ready' ? 100 : stepPercent(s);
      const segments = encoding(s) ? ` segments ${s.segments!.done}/${s.segments!.count}` : '';
      const extra = s.waitingFor ? ` (${s.waitingFor})` : '';
      // After the encode the step's later phases (join, HLS, keyframes, storyboard…) each count
      // from 0 again: named, a log reader sees a new phase, not the transcode starting over.
      const phase =
        s.status !== 'ready' && s.progress?.phase && !['encode', s.step].includes(s.progress.phase) ? ` (${s.progress.phase})` : '';
      this.line(`${s.status} ${s.step}${phase} ${Math.round(pct)}%${segments}${extra}`);
    }
  }

  stop(): void {
    this.multi?.stop();
  }

  private line(text: string): void {
    if (text === this.lastLine) return;
    this.lastLine = text;
    this.stream.write(`${text}\n`);
  }
}

/** A segmented transcode still encoding its segments (then it joins and packages HLS). */
function encoding(s: VideoStatus): boolean {
  return s.step === 'transcode' && s.segments !== null && s.segments.count > 0 && s.segments.done < s.segments.count;
}

/**
 * The running step's percent. While a segmented transcode encodes, the pending activity is one
 * segment of many (its own percent restarts at 0 for each): the share of segments done says more.
 */
export function stepPercent(s: VideoStatus): number {
  if (encoding(s)) return (100 * s.segments!.done) / s.segments!.count;
  return s.progress?.percent ?? 0;
}
