/**
 * One API process's watchers of video status (GET /videos/:id/events), fanned out by video id:
 * a change notification of a video (PostgreSQL LISTEN, src/db/pg-notifications.ts) leads to ONE
 * read of its document for all its watchers, at most one read per `minIntervalMs` (a burst of
 * notifications is coalesced into the read after it), and each watcher is sent the document only
 * when it differs from the last one it was sent. While the notifications are down, every watched
 * video is re-read every `fallbackPollMs`; while they are up, every `safetyRereadMs` still (a change
 * no notification announces: a deletion, a step waiting for its worker, a run an operator ended).
 * Transport-free: the route (src/api/routes/video-events.ts) turns sends into SSE frames.
 */

/** One read of a video for its watchers: the event to send, and whether it ends the watch. */
export interface WatchRead<D> {
  event: string;
  doc: D;
  final: boolean;
  /** The document is about to change with no notification to say so (a run ending): read again after this long. */
  recheckMs?: number;
}

/** One stream's end of the hub. */
export interface Watcher<D> {
  send(read: WatchRead<D>): void;
  /** Nothing to say for a while: a comment that keeps proxies from closing the idle stream. */
  ping(): void;
  /** The watch is over (after a final read, or the hub closes): close the stream. */
  end(): void;
}

export interface WatchHubOptions<D> {
  /** The video's document now; undefined when it cannot be read now (the next change or tick tries again). */
  read(videoId: string): Promise<WatchRead<D> | undefined>;
  /** Concurrent watchers in this process; open() refuses beyond it. */
  maxWatchers: number;
  /** At most one read of a video per this interval. */
  minIntervalMs?: number;
  keepaliveMs?: number;
  fallbackPollMs?: number;
  safetyRereadMs?: number;
  /** Called with the first watcher: start listening (the listener reports back through notify/feedState). */
  onFirstWatcher?(): void;
  onReadError?(err: unknown, videoId: string): void;
}

/** Concurrent watchers of one API process unless configured (API_MAX_EVENT_STREAMS). */
export const DEFAULT_MAX_WATCHERS = 1000;

export const WATCH_DEFAULTS = { minIntervalMs: 300, keepaliveMs: 15_000, fallbackPollMs: 3_000, safetyRereadMs: 15_000 };

interface Subscription<D> {
  watcher: Watcher<D>;
  /** The JSON of the last document sent to this watcher. */
  last: string;
}

interface Topic<D> {
  videoId: string;
  subs: Set<Subscription<D>>;
  lastReadAt: number;
  reading: boolean;
  /** A change came during the read: read again after it. */
  again: boolean;
  timer?: NodeJS.Timeout;
}

export class StatusWatchHub<D> {
  private readonly topics = new Map<string, Topic<D>>();
  private readonly o: Required<Omit<WatchHubOptions<D>, 'onFirstWatcher' | 'onReadError'>> & WatchHubOptions<D>;
  private count = 0;
  private feedUp = false;
  private started = false;
  private closed = false;
  private keepalive?: NodeJS.Timeout;
  private ticker?: NodeJS.Timeout;
  private lastSweep = 0;

  constructor(opts: WatchHubOptions<D>) {
    this.o = { ...WATCH_DEFAULTS, ...opts };
  }

  get watchers(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.o.maxWatchers;
  }

  /**
   * Watches a video whose document `initial` the caller has just read and sent. Undefined when the
   * process has `maxWatchers` already (or is closing): the caller refuses the stream.
   */
  open(videoId: string, watcher: Watcher<D>, initial: WatchRead<D>): { close(): void } | undefined {
    if (this.closed || this.full) return undefined;
    if (!this.started) {
      this.started = true;
      this.o.onFirstWatcher?.();
    }
    let topic = this.topics.get(videoId);
    if (!topic) {
      topic = { videoId, subs: new Set(), lastReadAt: 0, reading: false, again: false };
      this.topics.set(videoId, topic);
    }
    const sub: Subscription<D> = { watcher, last: JSON.stringify(initial.doc) };
    topic.subs.add(sub);
    this.count++;
    this.startTimers();
    const t = topic;
    let open = true;
    return {
      close: () => {
        if (!open) return;
        open = false;
        this.drop(t, sub);
      },
    };
  }

  /** A change notification for a video (its id as the payload). */
  notify(videoId: string): void {
    const topic = this.topics.get(videoId);
    if (topic) this.schedule(topic);
  }

  /** The notifications are up (listening) or down; back up, every watched video is read (changes may have been missed). */
  feedState(up: boolean): void {
    const wasUp = this.feedUp;
    this.feedUp = up;
    if (up && !wasUp) this.sweep();
  }

  /** Ends every stream (the process stops). */
  close(): void {
    this.closed = true;
    for (const topic of [...this.topics.values()]) {
      for (const sub of [...topic.subs]) {
        this.drop(topic, sub);
        sub.watcher.end();
      }
    }
    this.stopTimers();
  }

  private drop(topic: Topic<D>, sub: Subscription<D>): void {
    if (!topic.subs.delete(sub)) return;
    this.count--;
    if (topic.subs.size === 0) {
      clearTimeout(topic.timer);
      topic.timer = undefined;
      this.topics.delete(topic.videoId);
    }
    if (this.count === 0) this.stopTimers();
  }

  private schedule(topic: Topic<D>): void {
    if (topic.reading) {
      topic.again = true;
      return;
    }
    if (topic.timer) return;
    // A timer even at 0: notifications of one burst that arrive together make one read.
    const wait = Math.max(0, topic.lastReadAt + this.o.minIntervalMs - Date.now());
    topic.timer = setTimeout(() => {
      topic.timer = undefined;
      void this.refresh(topic);
    }, wait);
  }

  private async refresh(topic: Topic<D>): Promise<void> {
    if (this.topics.get(topic.videoId) !== topic) return;
    topic.reading = true;
    topic.lastReadAt = Date.now();
    let read: WatchRead<D> | undefined;
    try {
      read = await this.o.read(topic.videoId);
    } catch (err) {
      this.o.onReadError?.(err, topic.videoId);
    } finally {
      topic.reading = false;
    }
    if (read) this.deliver(topic, read);
    if (read?.recheckMs !== undefined && !read.final) {
      setTimeout(() => {
        if (this.topics.get(topic.videoId) === topic) this.schedule(topic);
      }, read.recheckMs).unref();
    }
    if (topic.again && this.topics.get(topic.videoId) === topic) {
      topic.again = false;
      this.schedule(topic);
    }
  }

  private deliver(topic: Topic<D>, read: WatchRead<D>): void {
    const json = JSON.stringify(read.doc);
    for (const sub of [...topic.subs]) {
      if (json !== sub.last) {
        sub.last = json;
        sub.watcher.send(read);
      }
      if (read.final) {
        this.drop(topic, sub);
        sub.watcher.end();
      }
    }
  }

  private sweep(): void {
    this.lastSweep = Date.now();
    for (const topic of this.topics.values()) this.schedule(topic);
  }

  private startTimers(): void {
    if (this.ticker) return;
    this.lastSweep = Date.now();
    this.ticker = setInterval(
      () => {
        const every = this.feedUp ? this.o.safetyRereadMs : this.o.fallbackPollMs;
        if (Date.now() - this.lastSweep >= every) this.sweep();
      },
      Math.min(this.o.fallbackPollMs, this.o.safetyRereadMs),
    );
    this.keepalive = setInterval(() => {
      for (const topic of this.topics.values()) for (const sub of topic.subs) sub.watcher.ping();
    }, this.o.keepaliveMs);
    this.ticker.unref();
    this.keepalive.unref();
  }

  private stopTimers(): void {
    clearInterval(this.ticker);
    clearInterval(this.keepalive);
    this.ticker = undefined;
    this.keepalive = undefined;
  }
}
