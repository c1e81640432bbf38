/** One server-sent event as the client sees it (the HTML standard's "dispatch the event"). */
export interface SseEvent {
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (the client's "last event ID"). */
  id?: string;
}

/**
 * An incremental text/event-stream parser (HTML Living Standard, "Interpreting an event stream"):
 * lines end in CRLF, LF or CR; `:` starts a comment; `data:` lines join with "\n"; a blank line
 * dispatches, and an event without data is not dispatched. Fed decoded text in chunks of any size,
 * so a line or a CRLF split across chunks is fine. Node 20's fetch reads the body; no EventSource needed.
 */
export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';
  private lastId: string | undefined;
  /** The server's `retry:` in milliseconds, when it sent one. */
  retryMs: number | undefined;

  push(chunk: string): SseEvent[] {
    this.buf += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buf);
      // A CR at the very end may be the first half of a CRLF: wait for the next chunk.
      if (!m || (m[0] === '\r' && m.index === this.buf.length - 1)) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    return out;
  }

  /** The stream ended: a CR it ended with still ends its line (no LF can follow any more). */
  end(): SseEvent[] {
    if (!this.buf.endsWith('\r')) return [];
    const line = this.buf.slice(0, -1);
    this.buf = '';
    const ev = this.line(line);
    return ev ? [ev] : [];
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') {
      const ev = this.data.length > 0 ? { event: this.event || 'message', data: this.data.join('\n'), id: this.lastId } : undefined;
      this.data = [];
      this.event = '';
      return ev;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }
}

/** The events of a response body, until the server closes it. */
export async function* readSse(body: ReadableStream<Uint8Array>, parser = new SseParser()): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    // An event the stream did not finish (no blank line) is dropped, as the standard says.
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    // Also when the caller stops early: the connection is closed, not left open.
    await reader.cancel().catch(() => undefined);
  }
}
