/**
 * The soak's "resumable" source: the upload API as a client uses it (POST /uploads, the bytes
 * to the presigned URLs it hands out, POST /uploads/:id/complete), then POST /videos from the
 * completed upload. Multipart when the ticket offers parts, each part sent and then checked
 * against what the store says it received (what a resuming client does), one PUT otherwise.
 */
import { readFile } from 'node:fs/promises';
import type { InjectOptions } from 'fastify';
import type { UploadTicket } from '../../src/app/upload-service';
import type { TestApi } from '../../test/support/api';

/** How long a request the stack answered 5xx (or a store that refused the connection) is retried, as a client would. */
const TRANSIENT_RETRY_FOR_MS = 150_000;

/**
 * One request of the upload as a patient client makes it: a 5xx answer (the API's database or
 * object store restarting: 503 with Retry-After) or a refused connection (the store itself down)
 * is retried after Retry-After (2 s without one), for up to 150 s.
 */
async function patiently<T extends { status: number; retryAfter?: string | undefined }>(send: () => Promise<T>): Promise<T> {
  const until = Date.now() + TRANSIENT_RETRY_FOR_MS;
  for (;;) {
    const res = await send().catch((err: unknown) => err as Error);
    const transient = res instanceof Error || res.status >= 500;
    if (!transient || Date.now() >= until) {
      if (res instanceof Error) throw res;
      return res;
    }
    const wait = res instanceof Error ? 2 : Number(res.retryAfter ?? 2) || 2;
    await new Promise((r) => setTimeout(r, wait * 1000));
  }
}

/** Sends `file` through the upload API and returns the POST /videos body that starts it (or throws with the API's answer). */
export async function uploadThroughApi(api: TestApi, videoId: string, file: string): Promise<UploadTicket['next']['body']> {
  const bytes = await readFile(file);
  const inject = async (opts: InjectOptions) => {
    const res = await api.app.inject(opts);
    const retryAfter = res.headers['retry-after'];
    return {
      status: res.statusCode,
      statusCode: res.statusCode,
      body: res.body,
      json: () => res.json() as unknown,
      retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
    };
  };
  const open = await patiently(() =>
    inject({
      method: 'POST',
      url: '/uploads',
      payload: { videoId, contentType: 'video/mp4', sizeBytes: bytes.length, multipart: true },
    }),
  );
  if (open.statusCode !== 200 && open.statusCode !== 201) throw new Error(`POST /uploads → ${open.statusCode} ${open.body}`);
  const ticket = open.json() as UploadTicket;
  // Presigned URLs name the API's public origin; this API is in-process, so only the path and query go.
  // On S3 they name the store itself (the soak's MinIO): sent there.
  const put = async (url: string, payload: Buffer, headers: Record<string, string> = {}) => {
    const u = new URL(url);
    const { status } = await patiently(async () => ({
      status:
        api.storage.backend === 's3'
          ? (await fetch(url, { method: 'PUT', body: payload, headers })).status
          : (await api.raw.inject({ method: 'PUT', url: `${u.pathname}${u.search}`, payload, headers })).statusCode,
    }));
    if (status !== 200 && status !== 201 && status !== 204) throw new Error(`PUT ${u.pathname} → ${status}`);
  };
  const up = ticket.upload;
  if (up?.method === 'PUT') await put(up.url, bytes, up.headers);
  else if (up?.method === 'MULTIPART') {
    let from = 0;
    for (const part of up.parts) {
      await put(part.url, bytes.subarray(from, from + part.sizeBytes));
      from += part.sizeBytes;
    }
    const resumed = (await patiently(() => inject({ method: 'GET', url: `/uploads/${ticket.uploadId}` }))).json() as UploadTicket;
    const received = resumed.upload?.method === 'MULTIPART' ? resumed.upload.received.length : 0;
    if (received !== up.parts.length) throw new Error(`the store holds ${received} of ${up.parts.length} parts`);
  }
  const done = await patiently(() => inject({ method: 'POST', url: ticket.complete.url, payload: {} }));
  if (done.statusCode !== 200) throw new Error(`complete → ${done.statusCode} ${done.body}`);
  return ticket.next.body;
}
