import { z } from 'zod';
import { searchQuerySchema } from '../../src/api/routes/search';
import { describeIssues, startVideoSchema } from '../../src/api/schemas';

const fileSource = { kind: 'file', path: '/data/clip.mp4' };

describe('startVideoSchema accepts', () => {
  it('a file source without a videoId', () => {
    expect(startVideoSchema.safeParse({ source: fileSource }).success).toBe(true);
  });

  it('a file source with a videoId', () => {
    const r = startVideoSchema.safeParse({ videoId: 'clip_01-A', source: fileSource });
    expect(r.success && r.data.videoId).toBe('clip_01-A');
  });

  it('an http URL source', () => {
    expect(startVideoSchema.safeParse({ source: { kind: 'url', url: 'http://example.com/a.mp4' } }).success).toBe(true);
  });

  it('an https URL source with a videoId', () => {
    const body = { videoId: 'v1', source: { kind: 'url', url: 'https://cdn.example.com/a.mp4?X-Amz-Signature=abc' } };
    expect(startVideoSchema.safeParse(body).success).toBe(true);
  });

  it('a videoId of exactly 64 characters', () => {
    expect(startVideoSchema.safeParse({ videoId: 'a'.repeat(64), source: fileSource }).success).toBe(true);
  });
});

describe('startVideoSchema rejects', () => {
  const rejects = (body: unknown) => expect(startVideoSchema.safeParse(body).success).toBe(false);

  it('a videoId of 65 characters', () => {
    rejects({ videoId: 'a'.repeat(65), source: fileSource });
  });

  it('a videoId with a space', () => {
    rejects({ videoId: 'my clip', source: fileSource });
  });

  it('a videoId with a slash', () => {
    rejects({ videoId: 'a/b', source: fileSource });
  });

  it('an empty videoId', () => {
    rejects({ videoId: '', source: fileSource });
  });

  it('a videoId with a dot (path traversal)', () => {
    rejects({ videoId: '..', source: fileSource });
  });

  it('an ftp URL', () => {
    rejects({ source: { kind: 'url', url: 'ftp://example.com/a.mp4' } });
  });

  it('a file: URL', () => {
    rejects({ source: { kind: 'url', url: 'file:///etc/passwd' } });
  });

  it('a URL that is not absolute, reporting it instead of throwing', () => {
    const body = { source: { kind: 'url', url: '/relative/a.mp4' } };
    let result: ReturnType<typeof startVideoSchema.safeParse> | undefined;
    expect(() => {
      result = startVideoSchema.safeParse(body);
    }).not.toThrow();
    expect(result?.success).toBe(false);
  });

  it('a URL that is not a URL at all, reporting it instead of throwing', () => {
    expect(() => startVideoSchema.safeParse({ source: { kind: 'url', url: 'not a url' } })).not.toThrow();
  });

  it('an unknown source kind', () => {
    rejects({ source: { kind: 's3', bucket: 'b', key: 'k' } });
  });

  it('an empty file path', () => {
    rejects({ source: { kind: 'file', path: '' } });
  });

  it('an extra top-level field', () => {
    rejects({ source: fileSource, priority: 'high' });
  });

  it('an extra field inside the source', () => {
    rejects({ source: { ...fileSource, url: 'http://example.com/a.mp4' } });
  });

  it('a body without a source', () => {
    rejects({ videoId: 'v1' });
  });
});

describe('describeIssues', () => {
  function issuesOf(schema: z.ZodTypeAny, body: unknown): string {
    const r = schema.safeParse(body);
    if (r.success) throw new Error('expected the body to be rejected');
    return describeIssues(r.error);
  }

  it('names the path of a bad videoId with its message', () => {
    expect(issuesOf(startVideoSchema, { videoId: 'a b', source: fileSource })).toBe(
      'videoId: videoId must be 1–64 characters of letters, digits, "_" or "-"',
    );
  });

  it('joins the nested path with dots for a bad URL protocol', () => {
    expect(issuesOf(startVideoSchema, { source: { kind: 'url', url: 'ftp://example.com/a' } })).toBe(
      'source.url: only http and https URLs are accepted',
    );
  });

  it('joins several issues with "; "', () => {
    const text = issuesOf(startVideoSchema, { videoId: 'a b', source: { kind: 'file', path: '' } });
    expect(text.split('; ')).toHaveLength(2);
    expect(text).toMatch(/^videoId: .+; source\.path: path must not be empty$|^source\.path: path must not be empty; videoId: .+$/);
  });

  it('gives the bare message for an issue without a path', () => {
    expect(issuesOf(z.string().min(2, 'too short'), 'x')).toBe('too short');
  });
});

describe('searchQuerySchema', () => {
  it('trims the query text', () => {
    expect(searchQuerySchema.parse({ q: '  cats on skateboards  ' }).q).toBe('cats on skateboards');
  });

  it('rejects a query that is only whitespace', () => {
    expect(searchQuerySchema.safeParse({ q: '   ' }).success).toBe(false);
  });

  it('defaults the limit to 5', () => {
    expect(searchQuerySchema.parse({ q: 'x' }).limit).toBe(5);
  });

  it('coerces a query-string limit', () => {
    expect(searchQuerySchema.parse({ q: 'x', limit: '12' }).limit).toBe(12);
  });

  it('accepts a limit of 50', () => {
    expect(searchQuerySchema.parse({ q: 'x', limit: '50' }).limit).toBe(50);
  });

  it('rejects a limit above 50', () => {
    expect(searchQuerySchema.safeParse({ q: 'x', limit: '51' }).success).toBe(false);
  });

  it('rejects a limit of 0', () => {
    expect(searchQuerySchema.safeParse({ q: 'x', limit: '0' }).success).toBe(false);
  });
});
