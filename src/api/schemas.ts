import { z } from 'zod';
import { VIDEO_ID_PATTERN } from '../workflows/ids';
import { noControlChars } from '../security/control-chars';

export const videoIdSchema = z.string().regex(VIDEO_ID_PATTERN, 'videoId must be 1–64 characters of letters, digits, "_" or "-"');

// zod runs refinements even after .url() failed, so this must not throw on garbage.
function isHttpUrl(u: string): boolean {
  try {
    return /^https?:$/.test(new URL(u).protocol);
  } catch {
    return false;
  }
}

// A NUL or other control character used to reach the database (500); it is a bad request.
export { noControlChars };

const sourceSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('file'),
      path: z.string().min(1, 'path must not be empty').max(4096).refine(noControlChars, 'path must not contain control characters'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('url'),
      url: z
        .string()
        .max(8192)
        .refine(noControlChars, 'url must not contain control characters')
        .pipe(z.string().url('url must be an absolute URL').refine(isHttpUrl, 'only http and https URLs are accepted')),
    })
    .strict(),
  z
    .object({
      kind: z.literal('upload'),
      key: z.string().min(1).max(512).refine(noControlChars, 'key must not contain control characters'),
    })
    .strict(),
]);

/** POST /videos/:id/refresh-url: the new URL of an external source whose old one expired. */
export const refreshUrlSchema = z
  .object({
    url: z
      .string()
      .max(8192)
      .refine(noControlChars, 'url must not contain control characters')
      .pipe(z.string().url('url must be an absolute URL').refine(isHttpUrl, 'only http and https URLs are accepted')),
  })
  .strict();

export const startVideoSchema = z
  .object({
    videoId: videoIdSchema.optional(),
    source: sourceSchema,
  })
  .strict();

export type StartVideoBody = z.infer<typeof startVideoSchema>;

const isoDate = z
  .string()
  .trim()
  .refine((v) => !Number.isNaN(Date.parse(v)), 'a date (YYYY-MM-DD) or timestamp')
  .transform((v) => new Date(v));

export const searchQuerySchema = z
  .object({
    q: z
      .string()
      .trim()
      .min(1, 'q (the search text) is required')
      .max(500, 'q must be at most 500 characters')
      // Only punctuation or symbols embed to noise: say so instead of returning noise.
      .refine((s) => /[\p{L}\p{N}]/u.test(s), 'q must contain at least one letter or digit'),
    limit: z.coerce.number().int().min(1).max(50).default(5),
    // Pages go at most this deep: search fetches at most 1000 nearest neighbours per query.
    offset: z.coerce.number().int().min(0).max(900).default(0),
    // hybrid: full-text and semantic fused; vector or text: one half alone (to compare them).
    mode: z.enum(['hybrid', 'vector', 'text']).default('hybrid'),
    // Filters: only ready videos are ever searchable, so `status` accepts just that.
    status: z.enum(['ready']).optional(),
    tags: z
      .string()
      .max(500)
      .transform((v) =>
        v
          .split(',')
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean),
      )
      .optional(),
    minDuration: z.coerce.number().min(0).max(1e7).optional(),
    maxDuration: z.coerce.number().min(0).max(1e7).optional(),
    createdAfter: isoDate.optional(),
    createdBefore: isoDate.optional(),
  })
  // An unknown parameter is a typo that would silently not filter: say so.
  .strict()
  .refine((f) => f.minDuration === undefined || f.maxDuration === undefined || f.minDuration <= f.maxDuration, {
    message: 'minDuration must not exceed maxDuration',
  })
  .refine((f) => !f.createdAfter || !f.createdBefore || f.createdAfter <= f.createdBefore, {
    message: 'createdAfter must not be after createdBefore',
  });

export type SearchFilters = Pick<
  z.infer<typeof searchQuerySchema>,
  'tags' | 'minDuration' | 'maxDuration' | 'createdAfter' | 'createdBefore'
>;

/** One readable sentence from zod's issues: "source.kind: …; videoId: …". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
