/** The one error body every endpoint answers with: { error: { type, message, videoId, hint } }. */
export interface ErrorBody {
  error: { type: string; message: string; videoId: string | null; hint: string | null };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly opts: { videoId?: string; hint?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { error: { type: this.type, message: this.message, videoId: this.opts.videoId ?? null, hint: this.opts.hint ?? null } };
  }
}
