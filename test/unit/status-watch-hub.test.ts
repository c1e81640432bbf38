import { StatusWatchHub, WATCH_DEFAULTS, type WatchRead, type Watcher } from '../../src/app/status-watch-hub';

interface Doc {
  step: string;
  percent: number;
}

/** A watcher that records what it was sent. */
function recorder(): Watcher<Doc> & { sent: WatchRead<Doc>[]; pings: number; ended: boolean } {
  const w = {
    sent: [] as WatchRead<Doc>[],
    pings: 0,
    ended: false,
    send: (r: WatchRead<Doc>) => void w.sent.push(r),
    ping: () => void w.pings++,
    end: () => void (w.ended = true),
  };
  return w;
}

/** The "database": what a read of each video answers now, and how many reads were made. */
function fakeStore() {
  const docs = new Map<string, Doc | 'gone'>();
  const reads: string[] = [];
  const read = async (id: string): Promise<WatchRead<Doc> | undefined> => {
    reads.push(id);
    const d = docs.get(id);
    if (d === undefined) return undefined;
    if (d === 'gone') return { event: 'deleted', doc: { step: 'gone', percent: 0 }, final: true };
    return { event: 'status', doc: { ...d }, final: d.step === 'ready' };
  };
  return { docs, reads, read };
}

const status = (doc: Doc): WatchRead<Doc> => ({ event: 'status', doc, final: false });
/** Lets the timers due by then and the reads they start run. */
async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('status watchers of one API process', () => {
  test('a burst of notifications makes one read per interval for all watchers of the video, and each gets each change once', async () => {
    const store = fakeStore();
    store.docs.set('v1', { step: 'transcode', percent: 0 });
    let started = 0;
    const hub = new StatusWatchHub<Doc>({ read: store.read, maxWatchers: 10, onFirstWatcher: () => started++ });
    hub.feedState(true);
    const [a, b] = [recorder(), recorder()];
    hub.open('v1', a, status({ step: 'transcode', percent: 0 }));
    hub.open('v1', b, status({ step: 'transcode', percent: 0 }));
    expect(started).toBe(1);

    // 50 notifications in 1 s (every 20 ms), the document changing with each.
    for (let i = 1; i <= 50; i++) {
      store.docs.set('v1', { step: 'transcode', percent: i * 2 });
      hub.notify('v1');
      await advance(20);
    }
    await advance(WATCH_DEFAULTS.minIntervalMs);
    // At most one read per 300 ms, shared: 1 s of burst plus the trailing read.
    expect(store.reads.length).toBeGreaterThanOrEqual(2);
    expect(store.reads.length).toBeLessThanOrEqual(5);
    expect(a.sent.length).toBe(store.reads.length);
    expect(b.sent).toEqual(a.sent);
    // The last change of the burst is never lost.
    expect(a.sent.at(-1)?.doc).toEqual({ step: 'transcode', percent: 100 });
    hub.close();
  });

  test('a read that finds the same document sends nothing; notifications of other videos read nothing', async () => {
    const store = fakeStore();
    store.docs.set('v1', { step: 'transcode', percent: 40 });
    const hub = new StatusWatchHub<Doc>({ read: store.read, maxWatchers: 10 });
    hub.feedState(true);
    const w = recorder();
    hub.open('v1', w, status({ step: 'transcode', percent: 40 }));
    hub.notify('v1');
    hub.notify('other');
    await advance(1_000);
    expect(store.reads).toEqual(['v1']);
    expect(w.sent).toEqual([]);
    hub.close();
  });

  test('a final read is sent, then the watch ends and the video is no longer read', async () => {
    const store = fakeStore();
    store.docs.set('v1', { step: 'ready', percent: 100 });
    const hub = new StatusWatchHub<Doc>({ read: store.read, maxWatchers: 10 });
    hub.feedState(true);
    const w = recorder();
    hub.open('v1', w, status({ step: 'index', percent: 90 }));
    hub.notify('v1');
    await advance(500);
    expect(w.sent.map((r) => [r.doc.step, r.final])).toEqual([['ready', true]]);
    expect(w.ended).toBe(true);
    expect(hub.watchers).toBe(0);
    hub.notify('v1');
    await advance(WATCH_DEFAULTS.safetyRereadMs * 2);
    expect(store.reads).toEqual(['v1']);
  });

  test('a deleted video ends its watch after the deleted event, found by the periodic re-read (a deletion notifies nothing)', async () => {
    const store = fakeStore();
    store.docs.set('v1', { step: 'transcode', percent: 10 });
    const hub = new StatusWatchHub<Doc>({ read: store.read, maxWatchers: 10 });
    hub.feedState(true);
    const w = recorder();
    hub.open('v1', w, status({ step: 'transcode', percent: 10 }));
    store.docs.set('v1', 'gone');
    await advance(WATCH_DEFAULTS.safetyRereadMs + WATCH_DEFAULTS.fallbackPollMs + 100);
    expect(w.sent.map((r) => r.event)).toEqual(['deleted']);
    expect(w.ended).toBe(true);
  });

  test('while the notifications are down every watched video is re-read every few seconds, and at once when they are back', async () => {
    const store = fakeStore();
    store.docs.set('v1', { step: 'transcode', percent: 0 });
    const hub = new StatusWatchHub<Doc>({ read: store.read, maxWatchers: 10 });
    const w = recorder();
    hub.open('v1', w, status({ step: 'transcode', percent: 0 }));
    await advance(10 * 1000 + 100);
    // Down from the start (never up): one read per 3 s.
    expect(store.reads.length).toBeGreaterThanOrEqual(3);
    expect(store.reads.length).toBeLessThanOrEqual(4);
    hub.feedState(true);
    const before = store.reads.length;
    store.docs.set('v1', { step: 'analyze', percent: 5 });
    await advance(WATCH_DEFAULTS.minIntervalMs);
    expect(store.reads.length).toBe(before + 1);
    expect(w.sent.at(-1)?.doc.step).toBe('analyze');
    // Up: only the slow safety re-read remains.
    await advance(10_000);
    expect(store.reads.length).toBe(before + 1);
    hub.close();
  });

  test('refuses watchers beyond the bound, frees the place of one that disconnects, and pings every open stream', async () => {
    const store = fakeStore();
    const hub = new StatusWatchHub<Doc>({ read: store.read, maxWatchers: 2 });
    hub.feedState(true);
    const [a, b, c] = [recorder(), recorder(), recorder()];
    const subA = hub.open('v1', a, status({ step: 'queued', percent: 0 }));
    expect(hub.open('v2', b, status({ step: 'queued', percent: 0 }))).toBeDefined();
    expect(hub.full).toBe(true);
    expect(hub.open('v3', c, status({ step: 'queued', percent: 0 }))).toBeUndefined();
    subA!.close();
    subA!.close();
    expect(hub.watchers).toBe(1);
    expect(hub.open('v3', c, status({ step: 'queued', percent: 0 }))).toBeDefined();
    await advance(WATCH_DEFAULTS.keepaliveMs * 2 + 10);
    expect(a.pings).toBe(0);
    expect(b.pings).toBe(2);
    expect(c.pings).toBe(2);
    // A closed hub ends every stream and takes no more.
    hub.close();
    expect([b.ended, c.ended]).toEqual([true, true]);
    expect(hub.open('v1', a, status({ step: 'queued', percent: 0 }))).toBeUndefined();
  });

  test('a read that says the document is about to change unannounced is followed by another read after that long', async () => {
    const store = fakeStore();
    store.docs.set('v1', { step: 'failed', percent: 0 });
    let reads = 0;
    const hub = new StatusWatchHub<Doc>({
      read: async (id) => {
        reads++;
        const r = await store.read(id);
        return r && r.doc.step === 'failed' ? { ...r, recheckMs: 1_000 } : r;
      },
      maxWatchers: 10,
    });
    hub.feedState(true);
    const w = recorder();
    hub.open('v1', w, status({ step: 'transcode', percent: 30 }));
    hub.notify('v1');
    await advance(500);
    expect(reads).toBe(1);
    store.docs.set('v1', { step: 'ready', percent: 100 });
    await advance(1_000);
    // No notification came: the recheck read the end.
    expect(reads).toBe(2);
    expect(w.sent.map((r) => r.doc.step)).toEqual(['failed', 'ready']);
    expect(w.ended).toBe(true);
  });

  test('a failing read sends nothing and the next change reads again', async () => {
    const store = fakeStore();
    let fail = true;
    const errors: string[] = [];
    const hub = new StatusWatchHub<Doc>({
      read: async (id) => {
        if (fail) throw new Error('database down');
        return store.read(id);
      },
      maxWatchers: 10,
      onReadError: (err) => errors.push((err as Error).message),
    });
    hub.feedState(true);
    const w = recorder();
    hub.open('v1', w, status({ step: 'transcode', percent: 0 }));
    hub.notify('v1');
    await advance(500);
    expect(errors).toEqual(['database down']);
    fail = false;
    store.docs.set('v1', { step: 'transcode', percent: 50 });
    hub.notify('v1');
    await advance(500);
    expect(w.sent.map((r) => r.doc.percent)).toEqual([50]);
    hub.close();
  });
});
