import type { VideoStatus } from '../contracts/http';
import { STEP_QUEUE, type TaskQueues } from '../pipeline/catalogue';

/**
 * Live progress for a terminal (one line redrawn in place) or a log/CI (one line per change).
 */
export class ProgressLine {
  private last = '';
  private readonly tty: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly queues: TaskQueues,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(s: VideoStatus): void {
    const line = this.render(s);
    if (line === this.last) return;
    this.last = line;
    if (this.tty) this.stream.write(`\r\x1b[2K${line}`);
    else this.stream.write(`${line}\n`);
  }

  finish(): void {
    if (this.tty && this.last) this.stream.write('\n');
  }

  private render(s: VideoStatus): string {
    const role = (STEP_QUEUE as Partial<Record<string, keyof TaskQueues>>)[s.step];
    const where = role ? ` on queue '${this.queues[role]}'` : '';
    const pct = s.progress?.percent ?? (s.status === 'ready' ? 100 : 0);
    const width = 20;
    const filled = Math.round((pct / 100) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const attempt = s.attempt && s.attempt > 1 ? `  attempt ${s.attempt}` : '';
    const phase = s.progress?.phase && s.progress.phase !== s.step ? ` (${s.progress.phase})` : '';
    const problem = s.waitingFor ? `  ⚠ ${s.waitingFor}` : s.lastError && s.status !== 'failed' ? `  last error: ${s.lastError.type}` : '';
    return `  ${s.status.padEnd(10)} ${s.step}${phase}${where}  ${bar} ${String(pct).padStart(3)}%${attempt}${problem}`;
  }
}
