import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { UploadTicket } from '../contracts/http';
import { ApiError, type ErrorBody } from './api-client';

/** What the uploader needs of the API: the CLI's ApiClient (tests pass one pointed at a proxy). */
export interface UploadApi {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
}

export interface SendOptions {
  onProgress?: (sent: number, total: number) => void;
  /** Consecutive failed tries (dropped connection, API down) before giving up; each waits a little longer. */
  maxTries?: number;
  /** Lets a test point transfers at another origin (a proxy); the signed path and query stay. */
  transferUrl?: (signed: string) => string;
  onRetry?: (err: Error, attempt: number) => void;
}

/** Network failures and 5xx are worth another try; a 4xx refusal is an answer. */
function retryable(err: unknown): boolean {
  // 403 from a transfer: its signed URL expired while we were away; GET /uploads/:id signs new ones.
  if (err instanceof ApiError) return err.status === 0 || err.status >= 500 || err.type === 'TransferRefused';
  // fetch's "fetch failed" (connection refused, reset, cut); by name: it may come from another realm.
  return (err as Error | undefined)?.name === 'TypeError';
}

/**
 * Sends a file for an upload ticket and completes it, resuming by itself: after a dropped
 * connection or an API restart it asks the API which parts arrived (GET /uploads/:id, whose
 * state lives in PostgreSQL and the store) and sends only the others, so at most the part in
 * flight is sent twice. Each part goes with its Content-MD5, and a part the store holds is
 * skipped only when its ETag is the MD5 of our bytes.
 *
 * When that question gets no answer (the API is still down), the client goes on with the last
 * answer plus the parts the store acknowledged since: a 200 to a part PUT with our Content-MD5
 * means the store holds exactly our bytes. Going on with the last answer alone re-sent every
 * part acknowledged after it (three 16 MiB parts when the API restart outlasted the first retry).
 */
export async function sendUpload(api: UploadApi, first: UploadTicket, file: string, options: SendOptions = {}): Promise<UploadTicket> {
  const maxTries = options.maxTries ?? 30;
  let ticket = first;
  // What the store holds, as far as we know: the API's last answer, then each part it acknowledges.
  let held = heldParts(first);
  let failures = 0;
  const handle = await open(file, 'r');
  try {
    for (;;) {
      try {
        if (ticket.state === 'completed') return ticket;
        if (ticket.state === 'aborted' || !ticket.upload) throw new ApiError(410, 'UploadAborted', `upload ${ticket.uploadId} was aborted`);
        if (ticket.upload.method === 'PUT') await putWhole(ticket, ticket.upload, handle, options);
        else await putParts(ticket, ticket.upload, handle, options, held, () => (failures = 0));
        return await api.post<UploadTicket>(`/uploads/${ticket.uploadId}/complete`, {});
      } catch (err) {
        if (!retryable(err) || ++failures >= maxTries) throw err;
        options.onRetry?.(err as Error, failures);
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** Math.min(failures, 5))));
        // What arrived (and fresh URLs): the API may have restarted, the URLs may have expired.
        // An answer replaces what we knew (the store's word; it lists the acknowledged parts too).
        // No answer (the API is down): keep what we knew, so acknowledged parts are not sent again.
        const fresh = await api.get<UploadTicket>(`/uploads/${ticket.uploadId}`).catch((e: unknown) => {
          if (retryable(e)) return undefined;
          throw e;
        });
        if (fresh) [ticket, held] = [fresh, heldParts(fresh)];
      }
    }
  } finally {
    await handle.close();
  }
}

type FileHandle = Awaited<ReturnType<typeof open>>;
type PutPlan = Extract<NonNullable<UploadTicket['upload']>, { method: 'PUT' }>;
type PartsPlan = Extract<NonNullable<UploadTicket['upload']>, { method: 'MULTIPART' }>;
type Held = Map<number, PartsPlan['received'][number]>;

/** A copy (the caller's ticket stays as it was): acknowledged parts are added to it. */
function heldParts(ticket: UploadTicket): Held {
  return new Map(ticket.upload?.method === 'MULTIPART' ? ticket.upload.received.map((p) => [p.partNumber, p]) : []);
}

async function putWhole(ticket: UploadTicket, plan: PutPlan, handle: FileHandle, options: SendOptions): Promise<void> {
  const body = await readRange(handle, 0, ticket.sizeBytes);
  const res = await fetch(options.transferUrl?.(plan.url) ?? plan.url, { method: 'PUT', headers: plan.headers, body });
  // Already received (a retry after the answer was lost): the store refuses to replace it; complete it.
  if (res.status === 409 || res.status === 412) return;
  await expectOk(res);
  options.onProgress?.(ticket.sizeBytes, ticket.sizeBytes);
}

async function putParts(
  ticket: UploadTicket,
  plan: PartsPlan,
  handle: FileHandle,
  options: SendOptions,
  held: Held,
  onPart: () => void,
): Promise<void> {
  let sent = 0;
  for (const part of plan.parts) {
    const offset = (part.partNumber - 1) * plan.partSize;
    const body = await readRange(handle, offset, part.sizeBytes);
    const md5 = createHash('md5').update(body).digest();
    const have = held.get(part.partNumber);
    if (have?.sizeBytes === part.sizeBytes && have.etag === `"${md5.toString('hex')}"`) {
      sent += part.sizeBytes;
      options.onProgress?.(sent, ticket.sizeBytes);
      continue;
    }
    const res = await fetch(options.transferUrl?.(part.url) ?? part.url, {
      method: 'PUT',
      headers: { 'content-length': String(part.sizeBytes), 'content-md5': md5.toString('base64') },
      body,
    });
    await expectOk(res);
    // The store checked our Content-MD5 before it answered 200: it holds these bytes.
    held.set(part.partNumber, { partNumber: part.partNumber, etag: `"${md5.toString('hex')}"`, sizeBytes: part.sizeBytes });
    sent += part.sizeBytes;
    onPart();
    options.onProgress?.(sent, ticket.sizeBytes);
  }
}

async function readRange(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
    if (bytesRead === 0) throw new ApiError(400, 'FileChanged', 'the file got shorter while it was being uploaded');
    got += bytesRead;
  }
  return buf;
}

async function expectOk(res: Response): Promise<void> {
  if (res.ok) {
    await res.arrayBuffer().catch(() => undefined);
    return;
  }
  const text = await res.text().catch(() => '');
  let type = res.status === 403 ? 'TransferRefused' : `Http${res.status}`;
  let message = text.slice(0, 200);
  try {
    const e = (JSON.parse(text) as ErrorBody).error;
    type = res.status === 403 ? type : (e?.type ?? type);
    message = e?.message ?? message;
  } catch {
    // not JSON (an S3 XML error, say): keep the text
  }
  throw new ApiError(res.status, type, `upload refused: ${message}`);
}
