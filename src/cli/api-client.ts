/**
 * The CLI's view of the HTTP API: one fetch wrapper that sends the API key, and turns every
 * refusal into an ApiError carrying the server's typed failure name (never a stack trace).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error?: { type?: string; message?: string; hint?: string };
}

export class ApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    readonly apiKey?: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  url(pathOrUrl: string): string {
    return /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...extra };
  }

  /** True when the API runs on this machine (then a local file can be copied into its ingest dir). */
  isLocal(): boolean {
    const host = new URL(this.baseUrl).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url(path), {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(
        0,
        'ApiUnreachable',
        `cannot reach the API at ${this.baseUrl} (${cause})`,
        'Start it, or pass --api-url / set BIBLIO_API_URL.',
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json as ErrorBody | undefined)?.error;
      throw new ApiError(res.status, e?.type ?? `Http${res.status}`, e?.message ?? (text.slice(0, 200) || res.statusText), e?.hint);
    }
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
}

export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
