import pino, { type Logger } from 'pino';
import { DefaultLogger, type LogLevel } from '@temporalio/worker';

/** Structured JSON logs; every line names its component so interleaved process output stays readable. */
export function createLogger(component: string, level: string): Logger {
  return pino({ level, base: { component, pid: process.pid } });
}

/** Routes the Temporal runtime's and SDK's logs into the same JSON stream. */
export function temporalLogger(log: Logger): DefaultLogger {
  const level = (log.level === 'silent' ? 'ERROR' : log.level.toUpperCase()) as LogLevel;
  return new DefaultLogger(level === ('FATAL' as LogLevel) ? 'ERROR' : level, (entry) => {
    const method = entry.level.toLowerCase() as 'trace' | 'debug' | 'info' | 'warn' | 'error';
    log[method]({ ...withVideoId(entry.meta), source: 'temporal' }, entry.message);
  });
}

/** Workflow ids are `video-<videoId>` (src/workflows/ids.ts): name the video on workflow and activity lines too. */
function withVideoId(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const m = meta ?? {};
  const wf = m.workflowId;
  if (m.videoId === undefined && typeof wf === 'string' && wf.startsWith('video-')) return { videoId: wf.slice('video-'.length), ...m };
  return m;
}
