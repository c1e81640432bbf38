/**
 * The HTTP API's answers, one type per route, shared by the API (which returns them), the CLI
 * (which reads them) and the dashboard (plain JS: its JSDoc names these types). A route that
 * changes its answer breaks the CLI at compile time instead of at a person's terminal (as it once did:
 * `keys list` read a list where the API answered `{keys: […]}`).
 *
 * Types only: no runtime code, so any side may import it.
 */
import type { Role } from '../auth/roles';
import type { VideoStatus } from '../app/derive-status';
import type { SearchMoment, SearchMode, SearchPage, SearchResult } from '../app/search-service';
import type { TranscriptView } from '../app/transcript-service';
import type { UploadTicket } from '../app/upload-service';
import type { UsageReport, UsageTotals } from '../app/usage-report';

/** Every 4xx/5xx: `{ error: { type, message, videoId, hint } }`. */
export interface ErrorBody {
  error: { type: string; message: string; videoId: string | null; hint: string | null };
}

/** GET /videos/:id, POST /videos (202/200), POST /videos/:id/refresh-url (202). */
export type VideoStatusResponse = VideoStatus;
export type { VideoStatus };

/** GET /videos/:id/transcript: language, status and timed segments (seconds of the video). */
export type TranscriptResponse = TranscriptView;

/** POST /uploads, GET /uploads/:id, POST /uploads/:id/complete. */
export type { UploadTicket };

/** GET /usage. */
export type { UsageReport, UsageTotals };

/** GET /search. */
export type SearchResponse = SearchPage;
export type SearchHit = SearchResult;
/** One place in a hit where the query is said (or shown): open the player at `startSec`. */
export type { SearchMoment, SearchMode };

/** One row of GET /videos. */
export interface VideoListItem {
  videoId: string;
  /** The row's state: queued (also while processing — GET /videos/:id has the live step), ready, failed. */
  status: string;
  /** complete | delayed (a stand-in: POST /videos/:id/reanalyze) | failed (the provider refused) | null (not analysed yet). */
  analysis: string | null;
  createdAt: string;
  durationSec: number | null;
  width: number | null;
  height: number | null;
  summary: string | null;
  tags: string[];
  lastError: { type: string; message: string; step: string | null } | null;
  links: { self: string; thumbnail: string | null; rendition: string | null; temporalUi: string };
}

/** GET /videos. */
export interface VideoListResponse {
  items: VideoListItem[];
  /** The `cursor` of the next page, null on the last. */
  nextCursor: string | null;
}

/** An API key as listed: never its secret. */
export interface ApiKeyView {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** GET /keys. */
export interface KeyListResponse {
  keys: ApiKeyView[];
}

/** POST /keys (201): the only time the secret is shown. */
export interface KeyCreatedResponse extends ApiKeyView {
  key: string;
}

/** A dead letter as people see it: no server paths, a link to the failed run in the Web UI. */
export interface DeadLetterView {
  id: string;
  videoId: string;
  workflowId: string;
  runId: string | null;
  step: string;
  errorType: string;
  message: string;
  attempts: number | null;
  failures: number;
  state: 'open' | 'replayed' | 'discarded';
  source: { kind: string; path?: string; url?: string } | null;
  replayedRunId: string | null;
  firstFailedAt: string;
  lastFailedAt: string;
  links: { self: string; video: string; temporalUi: string; replayedRun: string | null };
}

/** GET /dead-letters: newest first; `next` is the next page (numeric key set), null on the last. */
export interface DeadLetterListResponse {
  items: DeadLetterView[];
  next: string | null;
}

/** GET /dead-letters/:id, POST /dead-letters/:id/replay (202), POST /dead-letters/:id/discard. */
export type DeadLetterResponse = DeadLetterView;
