import { z } from 'zod';
import { VIDEO_ID_PATTERN } from '../workflows/ids';

export const videoIdSchema = z.string().regex(VIDEO_ID_PATTERN, 'videoId must be 1–64 characters of letters, digits, "_" or "-"');

// zod runs refinements even after .url() failed, so this must not throw on garbage.
function isHttpUrl(u: string): boolean {
  try {
    return /^https?:$/.test(new URL(u).protocol);
  } catch {
    return false;
  }
}

const sourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('file'), path: z.string().min(1, 'path must not be empty').max(4096) }).strict(),
  z
    .object({
      kind: z.literal('url'),
      url: z.string().url('url must be an absolute URL').refine(isHttpUrl, 'only http and https URLs are accepted'),
    })
    .strict(),
]);

export const startVideoSchema = z
  .object({
    videoId: videoIdSchema.optional(),
    source: sourceSchema,
  })
  .strict();

export type StartVideoBody = z.infer<typeof startVideoSchema>;

/** One readable sentence from zod's issues: "source.kind: …; videoId: …". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}
