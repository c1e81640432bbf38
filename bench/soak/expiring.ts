/**
 * The soak's expiring URL sources and the simulated operator who refreshes them. A `url-expiring`
 * upload is submitted with a signed URL whose expiry is the moment of submission, so its first
 * download is always refused (403, the object store's "Request has expired" body: the product
 * classifies it SourceUrlExpired) and the run waits for POST /videos/:id/refresh-url. The driver
 * polls each open upload's status; one that says `waiting_for_source` gets a new URL, valid for
 * FRESH_URL_TTL_SEC. Pure: the records come in, the checker's facts go out (the summary's lines
 * are report.ts `refreshSummary`).
 */
import type { SignedFetch } from './inputs';
import type { Snapshot } from './invariants';
import type { UploadSpec } from './schedule';

/** How long a URL the operator sends stays valid: past any one download, so a refresh is needed again only for a re-download after it. */
export const FRESH_URL_TTL_SEC = 600;

/** One POST /videos/:id/refresh-url the operator sent. */
export interface RefreshRecord {
  videoId: string;
  /** Seconds into the schedule when it was sent. */
  atSec: number;
  /** When it was sent (epoch ms), to match the source server's log. */
  sentAtMs: number;
  /** The API's answer: 202 when the run took the new URL (409 NotWaitingForSource, 503 Temporal unreachable: tried again next poll). */
  code: number;
  errorType?: string;
  /** Seconds from the source server's last "expired" answer for the upload to this request: how long the upload had waited. */
  waitedSec?: number;
  /** Taken refreshes: seconds from sending it to the source server serving the new URL (the run resumed). */
  resumedSec?: number;
}

/** Per submitted `url-expiring` upload (refused submissions have none): what the invariant checker reads. */
export function expiringFacts(
  uploads: readonly UploadSpec[],
  refused: ReadonlyMap<string, string>,
  fileOf: (id: string) => string | undefined,
  fetches: readonly SignedFetch[],
  refreshes: readonly RefreshRecord[],
): Snapshot['expiringSources'] {
  const out: Snapshot['expiringSources'] = new Map();
  for (const u of uploads) {
    if (u.source !== 'url-expiring' || refused.has(u.id)) continue;
    const file = fileOf(u.id);
    const mine = fetches.filter((f) => f.file === file);
    out.set(u.id, {
      expiredAnswers: mine.filter((f) => f.verdict === 'expired').length,
      refreshesAccepted: refreshes.filter((r) => r.videoId === u.id && r.code === 202).length,
      // The first URL is issued expired: every URL the server served was a new one.
      served: mine.filter((f) => f.verdict === 'served').length,
    });
  }
  return out;
}
