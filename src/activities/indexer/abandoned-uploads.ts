import type { ObjectStorage } from '../../adapters/storage/port';
import type { UploadsRepo } from '../../db/uploads-repo';

/**
 * Aborts uploads left open past their expiry (the client never came back): a multipart
 * upload's parts are aborted in the store (S3 keeps and bills them otherwise), a single PUT's
 * object removed, and the row marked aborted, which frees its video id. Run by the
 * reconciler's retention step; returns how many were aborted.
 */
export async function abortAbandonedUploads(
  o: { uploads: UploadsRepo; storage: ObjectStorage },
  now = new Date(),
  limit = 100,
): Promise<number> {
  let aborted = 0;
  for (const row of await o.uploads.expiredOpen(now, limit)) {
    // Row first: a client that resumes now gets 410 instead of parts that vanish under it.
    if (!(await o.uploads.markAborted(row.id))) continue;
    if (row.multipartId) await o.storage.abortMultipart(row.objectKey, row.multipartId);
    else await o.storage.delete(row.objectKey);
    aborted++;
  }
  return aborted;
}
