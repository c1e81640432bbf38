import { readSse, SseParser, type SseEvent } from '../../src/cli/sse';
import { endsWatch } from '../../src/contracts/status-events';

/** Feeds the text in the given pieces; every event dispatched along the way. */
function parse(...chunks: string[]): { events: SseEvent[]; parser: SseParser } {
  const parser = new SseParser();
  return { events: chunks.flatMap((c) => parser.push(c)), parser };
}

describe('the CLI parser of server-sent events', () => {
  test('one event per blank line, with its name, data and id; comments and the retry field are not events', () => {
    const { events, parser } = parse('retry: 3000\n\n: keepalive\n\nid: a1\nevent: status\ndata: {"step":"transcode"}\n\n');
    expect(events).toEqual([{ event: 'status', data: '{"step":"transcode"}', id: 'a1' }]);
    expect(parser.retryMs).toBe(3000);
  });

  test('a line, a field name and a CRLF split across chunks make the same events as the whole text', () => {
    const text = 'event: status\r\ndata: {"a":1}\r\n\r\nevent: deleted\r\ndata: {"b":2}\r\n\r\n';
    const whole = parse(text).events;
    expect(whole.map((e) => e.event)).toEqual(['status', 'deleted']);
    for (let cut = 1; cut < text.length; cut++) expect(parse(text.slice(0, cut), text.slice(cut)).events).toEqual(whole);
    expect(parse(...text.split('')).events).toEqual(whole);
  });

  test('data lines join with a newline; no data, no event; no name is "message"; a single space after the colon is dropped', () => {
    expect(parse('data:first\ndata:  second\n\nevent: empty\n\ndata\n\n').events).toEqual([
      { event: 'message', data: 'first\n second', id: undefined },
      { event: 'message', data: '', id: undefined },
    ]);
  });

  test('the event name does not leak into the next event; the last id does (it is the stream\'s "last event ID")', () => {
    expect(parse('id: 7\nevent: status\ndata: x\n\ndata: y\n\n').events).toEqual([
      { event: 'status', data: 'x', id: '7' },
      { event: 'message', data: 'y', id: '7' },
    ]);
  });

  test('a bare CR ends a line too, and an event the stream did not finish is dropped', async () => {
    const body = new Blob(['event: status\rdata: 1\r\rdata: unfinished']).stream();
    const seen: SseEvent[] = [];
    for await (const ev of readSse(body)) seen.push(ev);
    expect(seen).toEqual([{ event: 'status', data: '1', id: undefined }]);
    const endsOnCr: SseEvent[] = [];
    for await (const ev of readSse(new Blob(['data: last\r\r']).stream())) endsOnCr.push(ev);
    expect(endsOnCr).toEqual([{ event: 'message', data: 'last', id: undefined }]);
  });

  test('a multi-byte character split between chunks of the body arrives whole', async () => {
    const bytes = new TextEncoder().encode('data: {"summary":"café ☕"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 18));
        c.enqueue(bytes.slice(18));
        c.close();
      },
    });
    const seen: SseEvent[] = [];
    for await (const ev of readSse(body)) seen.push(ev);
    expect(JSON.parse(seen[0]!.data)).toEqual({ summary: 'café ☕' });
  });
});

describe('when a status stream ends', () => {
  test.each([
    ['failed', null, true],
    ['ready', 'complete', true],
    ['ready', 'failed', true],
    ['ready', null, true],
    ['ready', 'delayed', false],
    ['processing', null, false],
    ['queued', null, false],
    ['waiting_for_source', null, false],
  ])('status %s with analysis %s → %s', (status, analysis, ends) => {
    expect(endsWatch({ status, analysis })).toBe(ends);
  });
});
