import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { HlsOutput, MediaFacts, TranscodeOutput } from '../workflows/contracts';

/**
 * The JSON documents the media queue leaves on disk, each with its schema. They are read back
 * by a later attempt, another worker or another run, and a crash, a full disk or an older
 * version may have left one damaged: a document that fails its schema is treated as absent,
 * and what it described is rebuilt.
 */

const mediaFactsSchema = z.object({
  durationSec: z.number(),
  width: z.number(),
  height: z.number(),
  videoCodec: z.string(),
  audioCodec: z.string().nullable(),
  frameRate: z.number().nullable(),
  sizeBytes: z.number(),
  container: z.string(),
}) satisfies z.ZodType<MediaFacts>;

/** `<mediaDir>/<videoId>/manifest.json`, written last: the published rendition and thumbnail, and the settings they were made with. */
export const renditionManifestSchema = z.object({
  key: z.string(),
  output: z.object({
    renditionPath: z.string(),
    thumbnailPath: z.string(),
    source: mediaFactsSchema,
    rendition: mediaFactsSchema,
  }) satisfies z.ZodType<TranscodeOutput>,
});
export type RenditionManifest = z.infer<typeof renditionManifestSchema>;

/** `ladder.json` inside a published HLS ladder: the output and the key of the rendition and settings it was cut from. */
export const ladderManifestSchema = z.object({
  key: z.string(),
  output: z.object({
    masterPath: z.string(),
    variants: z.array(z.object({ name: z.string(), width: z.number(), height: z.number(), bandwidth: z.number(), codecs: z.string() })),
  }) satisfies z.ZodType<HlsOutput>,
});
export type LadderManifest = z.infer<typeof ladderManifestSchema>;

/**
 * `plan.json` in a video's segment work area: what planTranscode leaves for the other segment
 * activities. Paths and the spans stay out of workflow history; the workflow holds only the
 * count and `digest`.
 */
export const storedPlanSchema = z.object({
  key: z.string(),
  facts: mediaFactsSchema,
  videoIndex: z.number(),
  audioIndex: z.number().nullable(),
  deinterlace: z.boolean(),
  segments: z.array(z.object({ index: z.number(), startSec: z.number(), endSec: z.number() })),
  /** planDigest(key, segments). */
  digest: z.string(),
});
export type StoredPlan = z.infer<typeof storedPlanSchema>;

/** `<output>.json` beside an encoded segment or the audio, written after the file is complete: its presence proves the file whole. */
export const sidecarSchema = z.object({
  key: z.string(),
  startSec: z.number(),
  endSec: z.number(),
  bytes: z.number(),
  durationSec: z.number(),
});
export type Sidecar = z.infer<typeof sidecarSchema>;

/** `single-source.json`: the output key of the source planTranscode handed over to the single pass. */
export const handOverSchema = z.object({ key: z.string() });
export type HandOver = z.infer<typeof handOverSchema>;

/** The document at `file`, or undefined when it is missing, not JSON or not of this schema. */
export async function readDocument<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  const raw = await readFile(file, 'utf8').catch(() => undefined);
  return raw === undefined ? undefined : parseDocument(raw, schema);
}

/** A document's text (read from a file or from object storage), or undefined when it is not JSON or not of this schema. */
export function parseDocument<T>(raw: string, schema: z.ZodType<T>): T | undefined {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
