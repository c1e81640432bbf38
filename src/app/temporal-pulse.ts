import type { Client } from '@temporalio/client';
import { temporalDeadlineIn, withTemporalDeadline } from '../temporal/deadline';

/** A probe at most this often, while reads want it. */
const PROBE_EVERY_MS = 5_000;
/** A success older than this no longer counts. */
const TRUST_MS = 7_000;

/**
 * Whether Temporal answered this process lately, for reads that do not ask it (the row-fed
 * status document): one GetSystemInfo (no persistence on the server) every 5 s while reads come,
 * not one query and describe per poll. Unknown or failed → false, and the caller asks Temporal itself.
 */
export class TemporalPulse {
  private okAt = 0;
  private probing = false;
  private lastProbe = 0;

  constructor(private readonly client: Client) {}

  up(now = Date.now()): boolean {
    if (!this.probing && now - this.lastProbe >= PROBE_EVERY_MS) this.probe(now);
    return now - this.okAt <= TRUST_MS;
  }

  /** Any successful call to Temporal proves it up as well. */
  saw(now = Date.now()): void {
    this.okAt = Math.max(this.okAt, now);
  }

  private probe(now: number): void {
    this.probing = true;
    this.lastProbe = now;
    withTemporalDeadline(this.client, () => this.client.workflowService.getSystemInfo({}), temporalDeadlineIn(2_000))
      .then(
        () => this.saw(),
        () => {
          this.okAt = 0;
        },
      )
      .finally(() => {
        this.probing = false;
      });
  }
}
