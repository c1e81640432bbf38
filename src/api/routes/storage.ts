import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LOCAL_STORAGE_PREFIX, type LocalObjectStorage, type SignedMethod } from '../../adapters/storage/local-storage';
import { InvalidKeyError, validateKey } from '../../adapters/storage/port';
import { HttpError } from '../http-error';

/**
 * The local store's signed transfers: PUT (client upload) and GET (download) of one key with a
 * URL this API signed. No API key here — the signature is the credential — so these routes
 * are `access: 'public'`. Every refusal is a clear 4xx and keeps nothing.
 */
export function registerStorageRoutes(app: FastifyInstance, deps: { storage: LocalObjectStorage }): void {
  void app.register(async (scope) => {
    // Bodies stream straight to disk: no parser may buffer or reject them first.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));

    const keyOf = (raw: string): string => {
      try {
        return validateKey(raw);
      } catch (err) {
        if (err instanceof InvalidKeyError)
          throw new HttpError(400, 'InvalidKey', err.message, { hint: 'Use the URL exactly as POST /uploads returned it.' });
        throw err;
      }
    };
    const check = (method: SignedMethod, key: string, q: Record<string, string | undefined>) => {
      const verdict = deps.storage.verify(method, key, q);
      if (verdict === 'expired') {
        throw new HttpError(403, 'SignedUrlExpired', 'this signed URL has expired', { hint: 'Ask for a new one (POST /uploads).' });
      }
      if (verdict !== 'ok') {
        throw new HttpError(403, 'SignatureMismatch', 'this URL is not signed for this request', {
          hint: 'Use the URL, method and headers exactly as they were issued.',
        });
      }
    };

    const checkDeclaredSize = (header: string | undefined, signedSize: number) => {
      const declared = Number(header ?? NaN);
      if (declared > signedSize) {
        throw new HttpError(413, 'UploadTooLarge', `the body is ${declared} bytes; this URL accepts exactly ${signedSize}`, {
          hint: 'Ask for an upload URL with the real size.',
        });
      }
    };

    scope.put<{ Params: { '*': string }; Querystring: Record<string, string> }>(
      `${LOCAL_STORAGE_PREFIX}*`,
      { config: { access: 'public' } },
      async (req, reply) => {
        const key = keyOf(req.params['*']);
        if (req.query.m === 'PART') return receivePart(key, req.query, req, reply);
        check('PUT', key, req.query);
        const signedSize = Number(req.query.l);
        if ((req.headers['content-type'] ?? '') !== req.query.t) {
          throw new HttpError(415, 'ContentTypeMismatch', `this URL accepts content-type ${req.query.t} only`, {
            hint: 'Send the content-type header POST /uploads returned.',
          });
        }
        checkDeclaredSize(req.headers['content-length'], signedSize);
        const result = await deps.storage.receive(key, req.raw, signedSize, req.query.t ?? '');
        if (result === 'exists') {
          // A signed PUT is good for one object: a replay (or a second uploader) cannot replace it.
          throw new HttpError(409, 'ObjectExists', 'this upload was received already; an object is never replaced', {
            hint: 'Start a new upload (POST /uploads) to send another file.',
          });
        }
        if (result !== 'ok') {
          throw new HttpError(400, 'UploadIncomplete', `the body was not the signed ${signedSize} bytes; nothing was stored`, {
            hint: 'Send the whole file with the size given to POST /uploads.',
          });
        }
        return reply.status(200).send({ ok: true, key });
      },
    );

    /** One part of a multipart upload (signed for its upload id, part number and exact size). */
    async function receivePart(key: string, q: Record<string, string>, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
      check('PART', key, q);
      const signedSize = Number(q.l);
      const partNumber = Number(q.n);
      checkDeclaredSize(req.headers['content-length'], signedSize);
      const md5 = req.headers['content-md5'];
      const result = await deps.storage.receivePart(
        key,
        q.u ?? '',
        partNumber,
        req.raw,
        signedSize,
        typeof md5 === 'string' ? md5 : undefined,
      );
      if (result === 'no-upload') {
        throw new HttpError(404, 'UploadNotFound', 'this multipart upload is finished or was aborted', {
          hint: 'Ask for the upload again (GET /uploads/:id) or start a new one.',
        });
      }
      if (result === 'checksum') {
        throw new HttpError(400, 'ChecksumMismatch', 'the part does not match its Content-MD5; nothing was stored', {
          hint: 'Send the part again.',
        });
      }
      if (typeof result === 'string') {
        throw new HttpError(400, 'UploadIncomplete', `the part was not the signed ${signedSize} bytes; nothing was stored`, {
          hint: 'Send the whole part again.',
        });
      }
      return reply.status(200).header('etag', result.etag).send({ ok: true, partNumber });
    }

    scope.get<{ Params: { '*': string }; Querystring: Record<string, string> }>(
      `${LOCAL_STORAGE_PREFIX}*`,
      { config: { access: 'public' } },
      async (req, reply) => {
        const key = keyOf(req.params['*']);
        check('GET', key, req.query);
        const info = await deps.storage.head(key);
        if (!info) throw new HttpError(404, 'ObjectNotFound', 'no such object');
        return reply
          .header('content-type', info.contentType ?? 'application/octet-stream')
          .header('content-length', String(info.size))
          .send(deps.storage.openRead(key));
      },
    );
  });
}
