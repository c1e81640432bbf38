import type { Pool } from 'pg';

export type UploadState = 'open' | 'completed' | 'aborted';

export interface UploadRow {
  id: string;
  videoId: string;
  ownerKeyId: string;
  objectKey: string;
  contentType: string;
  sizeBytes: number;
  state: UploadState;
  /** The store's multipart upload id (S3 UploadId, or the local store's); null for a single PUT. */
  multipartId: string | null;
  partSize: number | null;
  /** Pinned at completion: the worker refuses an object whose ETag differs. */
  etag: string | null;
  versionId: string | null;
  createdAt: Date;
  expiresAt: Date;
  completedAt: Date | null;
}

const COLUMNS = `id, video_id AS "videoId", owner_key_id AS "ownerKeyId", object_key AS "objectKey",
  content_type AS "contentType", size_bytes::float8 AS "sizeBytes", state, multipart_id AS "multipartId",
  part_size::float8 AS "partSize", etag, version_id AS "versionId", created_at AS "createdAt",
  expires_at AS "expiresAt", completed_at AS "completedAt"`;

export interface NewUpload {
  id: string;
  videoId: string;
  ownerKeyId: string;
  objectKey: string;
  contentType: string;
  sizeBytes: number;
  multipartId?: string;
  partSize?: number;
  expiresAt: Date;
}

/** The `uploads` table (migration 1764820000000): who may turn which uploaded object into which video. */
export class UploadsRepo {
  constructor(private readonly pool: Pool) {}

  /**
   * Inserts a new upload; undefined when the video id already has a live upload (the unique
   * partial index decides, so two concurrent requests cannot both get one).
   */
  async create(u: NewUpload): Promise<UploadRow | undefined> {
    const { rows } = await this.pool.query<UploadRow>(
      `INSERT INTO uploads (id, video_id, owner_key_id, object_key, content_type, size_bytes, multipart_id, part_size, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (video_id) WHERE state <> 'aborted' DO NOTHING
       RETURNING ${COLUMNS}`,
      [u.id, u.videoId, u.ownerKeyId, u.objectKey, u.contentType, u.sizeBytes, u.multipartId ?? null, u.partSize ?? null, u.expiresAt],
    );
    return rows[0];
  }

  async get(id: string): Promise<UploadRow | undefined> {
    const { rows } = await this.pool.query<UploadRow>(`SELECT ${COLUMNS} FROM uploads WHERE id = $1`, [id]);
    return rows[0];
  }

  async byKey(objectKey: string): Promise<UploadRow | undefined> {
    const { rows } = await this.pool.query<UploadRow>(`SELECT ${COLUMNS} FROM uploads WHERE object_key = $1`, [objectKey]);
    return rows[0];
  }

  /** The live (not aborted) upload of a video id, if any. */
  async liveForVideo(videoId: string): Promise<UploadRow | undefined> {
    const { rows } = await this.pool.query<UploadRow>(`SELECT ${COLUMNS} FROM uploads WHERE video_id = $1 AND state <> 'aborted'`, [
      videoId,
    ]);
    return rows[0];
  }

  /** Pins what the upload is made of. Only an open upload completes; returns the row as it is now. */
  async complete(id: string, pin: { etag: string; versionId?: string }): Promise<UploadRow | undefined> {
    await this.pool.query(
      `UPDATE uploads SET state = 'completed', etag = $2, version_id = $3, completed_at = now() WHERE id = $1 AND state = 'open'`,
      [id, pin.etag, pin.versionId ?? null],
    );
    return this.get(id);
  }

  /** The pinned ETag of a completed upload's object (what the worker checks when it fetches). */
  async pinOf(objectKey: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ etag: string | null }>(
      `SELECT etag FROM uploads WHERE object_key = $1 AND state = 'completed'`,
      [objectKey],
    );
    return rows[0]?.etag ?? undefined;
  }

  /** Open uploads past their expiry (abandoned): the retention sweep aborts them. */
  async expiredOpen(now: Date, limit: number): Promise<UploadRow[]> {
    const { rows } = await this.pool.query<UploadRow>(
      `SELECT ${COLUMNS} FROM uploads WHERE state = 'open' AND expires_at < $1 ORDER BY expires_at LIMIT $2`,
      [now, limit],
    );
    return rows;
  }

  async markAborted(id: string): Promise<boolean> {
    const r = await this.pool.query(`UPDATE uploads SET state = 'aborted' WHERE id = $1 AND state = 'open'`, [id]);
    return (r.rowCount ?? 0) > 0;
  }

  /** A resumed upload's URLs live another TTL. */
  async extend(id: string, expiresAt: Date): Promise<void> {
    await this.pool.query(`UPDATE uploads SET expires_at = greatest(expires_at, $2) WHERE id = $1 AND state = 'open'`, [id, expiresAt]);
  }
}
