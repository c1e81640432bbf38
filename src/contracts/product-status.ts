/**
 * What a video's status can say, declared once: the `videos` row holds one of the row statuses,
 * the status document (API, CLI, dashboard) one of the product statuses. No imports, so any side
 * may use it.
 */

/** What the `videos` row records; its CHECK constraint (migrations/) lists the same three. */
export const ROW_STATUSES = ['queued', 'ready', 'failed'] as const;
export type RowStatus = (typeof ROW_STATUSES)[number];

/**
 * The status document's view: queued → processing → ready | failed, and waiting_for_source while a
 * run whose external URL expired waits for a new one. The row stays `queued` while a run works.
 */
export type ProductStatus = RowStatus | 'processing' | 'waiting_for_source';
