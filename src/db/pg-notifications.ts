import { Client, type ClientConfig } from 'pg';
import { fullJitterDelayMs, type BackoffPolicy } from '../adapters/analyzer/backoff';

export interface PgNotificationsOptions {
  /** How to reach the database (the API pool's own settings). */
  connection: ClientConfig;
  /** A fixed channel name of our own (LISTEN takes no parameter, so it is never caller input). */
  channel: string;
  onNotify(payload: string): void;
  /** Listening (true) or not (false: the connection dropped or could not be made, a reconnect is due). */
  onState(up: boolean): void;
  onError?(err: Error): void;
  /** Spacing of reconnects (full jitter); default 0.5 s doubling up to 30 s. */
  backoff?: BackoffPolicy;
}

/**
 * One connection LISTENing on one channel for a whole process, reconnected with backoff when it
 * drops. A pooled connection cannot listen: the pool hands it to other queries and LISTEN belongs to
 * the session. TCP keepalive so a silently dead peer (no RST) is found, not waited on forever.
 */
export class PgNotifications {
  private client?: Client;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private started = false;

  constructor(private readonly o: PgNotificationsOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(o.channel)) throw new Error(`not a plain channel name: ${o.channel}`);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ ...this.o.connection, keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    this.client = client;
    let dropped = false;
    const drop = (err?: Error) => {
      if (dropped) return;
      dropped = true;
      if (err) this.o.onError?.(err);
      if (this.client !== client) return;
      this.client = undefined;
      void client.end().catch(() => undefined);
      this.o.onState(false);
      this.retry();
    };
    client.on('error', drop);
    client.on('end', () => drop());
    client.on('notification', (m) => {
      if (m.channel === this.o.channel && m.payload) this.o.onNotify(m.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.o.channel}`);
    } catch (err) {
      drop(err as Error);
      return;
    }
    if (dropped || this.stopped) return;
    this.attempt = 0;
    this.o.onState(true);
  }

  private retry(): void {
    if (this.stopped) return;
    const delay = fullJitterDelayMs(++this.attempt, this.o.backoff ?? { baseMs: 500, capMs: 30_000 }, undefined);
    this.timer = setTimeout(() => void this.connect(), delay);
    this.timer.unref();
  }
}
