import { randomBytes } from 'node:crypto';
import { isVideoContentType, partPlan, type ObjectStorage, type PresignedPart, type ReceivedPart } from '../adapters/storage/port';
import type { UploadRow, UploadsRepo } from '../db/uploads-repo';
import type { VideosRepo } from '../db/videos-repo';
import { AppError } from './errors';

/** An open upload left alone this long is abandoned: the retention sweep aborts it (src/activities/indexer/abandoned-uploads.ts). */
export const UPLOAD_ABANDON_AFTER_MS = 24 * 60 * 60 * 1000;

export interface UploadServiceDeps {
  uploads: UploadsRepo;
  videos: Pick<VideosRepo, 'exists'>;
  storage: ObjectStorage;
  maxUploadBytes: number;
  uploadUrlTtlSec: number;
  /** Above this size the client gets a resumable multipart upload (or when it asks for one). */
  multipartThresholdBytes: number;
  multipartPartBytes: number;
}

export interface OpenUploadRequest {
  videoId?: string;
  contentType: string;
  sizeBytes: number;
  multipart?: boolean;
}

/** The answer of POST /uploads, GET /uploads/:id and POST /uploads/:id/complete (one shape: the CLI and dashboard share it). */
export interface UploadTicket {
  uploadId: string;
  videoId: string;
  key: string;
  state: 'open' | 'completed' | 'aborted';
  sizeBytes: number;
  contentType: string;
  /** How to send the bytes; absent once the upload is completed. */
  upload?:
    | { method: 'PUT'; url: string; headers: Record<string, string>; expiresAt: string; maxBytes: number }
    | {
        method: 'MULTIPART';
        partSize: number;
        /** PUT each part (exactly its sizeBytes; Content-MD5 optional and checked); keep nothing: completion lists what arrived. */
        parts: PresignedPart[];
        /** Parts the store holds already (resume: send only the others, or those whose ETag differs from your part's MD5). */
        received: ReceivedPart[];
        expiresAt: string;
      };
  complete: { method: 'POST'; url: string };
  next: { method: 'POST'; url: '/videos'; body: { videoId: string; source: { kind: 'upload'; key: string } } };
}

/**
 * Uploads bound to their video and their caller. The object key is random per
 * upload (never derived from a filename or the video id alone), the row names the API key
 * that opened it, and only that key can resume, complete or start a video from it.
 */
export class UploadService {
  private readonly repo: UploadsRepo;

  constructor(private readonly deps: UploadServiceDeps) {
    this.repo = deps.uploads;
  }

  async open(req: OpenUploadRequest, caller: string): Promise<{ created: boolean; ticket: UploadTicket }> {
    const videoId = req.videoId ?? `v_${randomBytes(9).toString('base64url')}`;
    if (!isVideoContentType(req.contentType)) {
      throw new AppError('unsupported-type', 'UnsupportedContentType', `${req.contentType} is not a video content type`, {
        videoId,
        hint: 'Upload video files only (content type video/*, e.g. video/mp4).',
      });
    }
    if (req.sizeBytes > this.deps.maxUploadBytes) {
      throw new AppError('too-large', 'UploadTooLarge', `${req.sizeBytes} bytes is over the ${this.deps.maxUploadBytes}-byte upload cap`, {
        videoId,
        hint: 'Compress or trim the video (MAX_UPLOAD_BYTES sets the cap).',
      });
    }
    if (req.videoId) {
      const live = await this.repo.liveForVideo(videoId);
      if (live) return { created: false, ticket: await this.resume(live, caller, req) };
      await this.refuseExistingVideo(videoId);
    }
    const multipart = req.multipart === true || req.sizeBytes > this.deps.multipartThresholdBytes;
    const id = `up_${randomBytes(18).toString('base64url')}`;
    // Unguessable and unique per upload; under uploads/<videoId>/ so deleting the video finds it.
    const key = `uploads/${videoId}/${id}`;
    const plan = partPlan(req.sizeBytes, this.deps.multipartPartBytes);
    // The store's multipart upload first: a row never exists without the id it resumes by.
    const multipartId = multipart ? await this.deps.storage.createMultipart(key, { contentType: req.contentType }) : undefined;
    const row = await this.repo.create({
      id,
      videoId,
      ownerKeyId: caller,
      objectKey: key,
      contentType: req.contentType,
      sizeBytes: req.sizeBytes,
      multipartId,
      partSize: multipart ? plan.partSize : undefined,
      expiresAt: new Date(Date.now() + UPLOAD_ABANDON_AFTER_MS),
    });
    if (!row) {
      if (multipartId) await this.deps.storage.abortMultipart(key, multipartId);
      // Another request opened one for this id in the meantime.
      const live = await this.repo.liveForVideo(videoId);
      if (live) return { created: false, ticket: await this.resume(live, caller, req) };
      throw conflict(videoId);
    }
    return { created: true, ticket: await this.ticket(row) };
  }

  /** GET /uploads/:id: fresh URLs and what arrived so far (resume after a dropped connection or an API restart). */
  async describe(uploadId: string, caller: string): Promise<UploadTicket> {
    const row = await this.owned(uploadId, caller);
    if (row.state === 'open') await this.repo.extend(row.id, new Date(Date.now() + UPLOAD_ABANDON_AFTER_MS));
    return this.ticket(row);
  }

  /**
   * POST /uploads/:id/complete: pins what the object is (ETag/version). Multipart: assembles
   * the parts the store holds, each of its planned size (and of the ETags the client names, if any).
   */
  async complete(uploadId: string, caller: string, named?: { partNumber: number; etag: string }[]): Promise<UploadTicket> {
    const row = await this.owned(uploadId, caller);
    if (row.state === 'completed') return this.ticket(row);
    if (row.state === 'aborted') throw gone(row);
    // An object under this upload's own key exists only once assembled: a completion that
    // crashed before the row was updated is finished by pinning, not by assembling again.
    if (row.multipartId && !(await this.deps.storage.pin(row.objectKey))) {
      const plan = partPlan(row.sizeBytes, row.partSize ?? row.sizeBytes).sizes;
      const have = new Map((await this.deps.storage.listParts(row.objectKey, row.multipartId)).map((p) => [p.partNumber, p]));
      const missing = plan.map((size, i) => (have.get(i + 1)?.sizeBytes === size ? 0 : i + 1)).filter((n) => n > 0);
      const differing = (named ?? []).filter((p) => have.get(p.partNumber)?.etag !== p.etag).map((p) => p.partNumber);
      if (missing.length > 0 || differing.length > 0) {
        throw new AppError(
          'conflict',
          'UploadIncomplete',
          `parts missing or not as sent: ${[...missing, ...differing].slice(0, 20).join(', ')}`,
          {
            videoId: row.videoId,
            hint: 'GET /uploads/:id for fresh part URLs, PUT those parts, then complete again.',
          },
        );
      }
      await this.deps.storage.completeMultipart(
        row.objectKey,
        row.multipartId,
        plan.map((_, i) => ({ partNumber: i + 1, etag: (have.get(i + 1) as ReceivedPart).etag })),
      );
    }
    const pin = await this.deps.storage.pin(row.objectKey);
    const info = pin ? await this.deps.storage.head(row.objectKey) : undefined;
    if (!pin || !info) {
      throw new AppError('conflict', 'UploadIncomplete', `nothing was uploaded for ${row.id} yet`, {
        videoId: row.videoId,
        hint: 'PUT the file to the upload URL first.',
      });
    }
    if (info.size !== row.sizeBytes || !isVideoContentType(info.contentType ?? '')) {
      throw new AppError(
        'conflict',
        'UploadIncomplete',
        `the object is ${info.size} bytes of ${info.contentType ?? 'unknown type'}, not the announced upload`,
        {
          videoId: row.videoId,
          hint: 'Start a new upload.',
        },
      );
    }
    return this.ticket((await this.repo.complete(row.id, pin)) ?? row);
  }

  /**
   * POST /videos {source: {kind: "upload", key}}: only the caller's own upload, of this video
   * id, and completed (a single PUT is completed here if its object is there). Returns the
   * video id the upload was opened for.
   */
  async claimForVideo(key: string, caller: string, videoId: string | undefined): Promise<string> {
    const row = await this.repo.byKey(key);
    if (!row || row.state === 'aborted') {
      throw new AppError('unprocessable', 'SourceNotFound', `no upload with key ${key}`, { videoId, hint: 'Call POST /uploads first.' });
    }
    if (row.ownerKeyId !== caller) {
      throw new AppError('forbidden', 'UploadNotOwned', 'this upload was opened by another API key', {
        videoId,
        hint: 'Start videos only from uploads your key opened.',
      });
    }
    if (videoId !== undefined && videoId !== row.videoId) {
      throw new AppError('conflict', 'VideoIdConflict', `upload ${row.id} is for video ${row.videoId}, not ${videoId}`, {
        videoId,
        hint: `Use videoId ${row.videoId} (or omit it).`,
      });
    }
    if (row.state === 'open') {
      if (row.multipartId) {
        throw new AppError('conflict', 'UploadIncomplete', `upload ${row.id} is not completed`, {
          videoId: row.videoId,
          hint: `POST /uploads/${row.id}/complete first.`,
        });
      }
      await this.complete(row.id, caller);
    }
    return row.videoId;
  }

  private async owned(uploadId: string, caller: string): Promise<UploadRow> {
    const row = await this.repo.get(uploadId);
    if (!row) throw new AppError('not-found', 'UploadNotFound', `no upload ${uploadId}`, { hint: 'POST /uploads opens one.' });
    if (row.ownerKeyId !== caller) {
      throw new AppError('forbidden', 'UploadNotOwned', 'this upload was opened by another API key', { videoId: row.videoId });
    }
    return row;
  }

  /** The same caller asking again for its own open upload gets it back (resume); anyone else 409. */
  private async resume(row: UploadRow, caller: string, req: OpenUploadRequest): Promise<UploadTicket> {
    if (row.ownerKeyId !== caller || row.state !== 'open') throw conflict(row.videoId);
    if (row.sizeBytes !== req.sizeBytes || row.contentType !== req.contentType) {
      throw new AppError(
        'conflict',
        'UploadConflict',
        `an upload of ${row.sizeBytes} bytes of ${row.contentType} is open for ${row.videoId}`,
        {
          videoId: row.videoId,
          hint: 'Resume it with the same size and type, or use another videoId.',
        },
      );
    }
    return this.describe(row.id, caller);
  }

  private async refuseExistingVideo(videoId: string): Promise<void> {
    if (await this.deps.videos.exists(videoId)) throw conflict(videoId);
  }

  private async ticket(row: UploadRow): Promise<UploadTicket> {
    const { storage, uploadUrlTtlSec: ttl } = this.deps;
    const expiresAt = new Date(Date.now() + ttl * 1000).toISOString();
    let upload: UploadTicket['upload'];
    if (row.state === 'open' && row.multipartId) {
      const partSize = row.partSize ?? row.sizeBytes;
      upload = {
        method: 'MULTIPART',
        partSize,
        parts: await storage.presignParts(row.objectKey, row.multipartId, { sizeBytes: row.sizeBytes, partSize, expiresInSec: ttl }),
        received: await storage.listParts(row.objectKey, row.multipartId),
        expiresAt,
      };
    } else if (row.state === 'open') {
      const put = await storage.presignPut(row.objectKey, { contentType: row.contentType, sizeBytes: row.sizeBytes, expiresInSec: ttl });
      upload = { method: 'PUT', url: put.url, headers: put.headers, expiresAt: put.expiresAt, maxBytes: row.sizeBytes };
    }
    return {
      uploadId: row.id,
      videoId: row.videoId,
      key: row.objectKey,
      state: row.state,
      sizeBytes: row.sizeBytes,
      contentType: row.contentType,
      ...(upload ? { upload } : {}),
      complete: { method: 'POST', url: `/uploads/${row.id}/complete` },
      next: { method: 'POST', url: '/videos', body: { videoId: row.videoId, source: { kind: 'upload', key: row.objectKey } } },
    };
  }
}

function conflict(videoId: string): AppError {
  return new AppError('conflict', 'VideoIdConflict', `video ${videoId} exists or has an upload in progress`, {
    videoId,
    hint: 'Omit videoId to have one generated, or use a new one.',
  });
}

function gone(row: UploadRow): AppError {
  return new AppError('gone', 'UploadAborted', `upload ${row.id} was abandoned and aborted`, {
    videoId: row.videoId,
    hint: 'Start a new upload (POST /uploads).',
  });
}
