import type { Command } from 'commander';
import { ApiClient, ApiError } from './api-client';

/** Exit codes (also in `biblio --help`). */
export const EXIT = { ok: 0, failed: 1, usage: 2, api: 3 } as const;

export interface GlobalOptions {
  apiUrl: string;
  apiKey?: string;
  json?: boolean;
}

/** A failure to report as one line on stderr, with its exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

export function client(cmd: Command): ApiClient {
  const { apiUrl, apiKey } = globals(cmd);
  return new ApiClient(apiUrl, apiKey);
}

export function print(cmd: Command, value: unknown, human: () => string): void {
  // JSON escapes control characters itself; human text is made printable.
  process.stdout.write(globals(cmd).json ? `${JSON.stringify(value, null, 2)}\n` : `${human().split('\n').map(printable).join('\n')}\n`);
}

/** One clear line for an API refusal: its typed name, what happened, what to do. */
export function describeApiError(err: ApiError): string {
  const hint = err.hint ? ` (${err.hint})` : '';
  return `${err.type}: ${err.message}${hint}`;
}

/** Wraps an action so every failure ends as one line on stderr and a non-zero exit. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      if (err instanceof CliError) fail(err.message, err.exitCode);
      else if (err instanceof ApiError) fail(describeApiError(err), err.status === 0 || err.status >= 500 ? EXIT.api : EXIT.failed);
      else fail(`unexpected error: ${(err as Error).message}`, EXIT.failed);
    }
  };
}

function fail(line: string, code: number): never {
  process.stderr.write(`biblio: ${line.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(code);
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** What the API sent, safe for a terminal: a stored name cannot carry an escape sequence to the screen. */
export function printable(text: string): string {
  return text.replace(CONTROL, '\uFFFD');
}

export function table(input: string[][]): string {
  const rows = input.map((r) => r.map(printable));
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}
