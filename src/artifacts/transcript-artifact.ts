import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ObjectStorage } from '../adapters/storage/port';
import { transcriptKey } from '../media/artifact-keys';
import { writeFileAtomic } from '../media/work-area';

/**
 * The full timed transcript is too large for workflow history (an hour of speech is ~1,000
 * segments), so the AI step writes it to the store beside the embedding and passes its key on;
 * the index step copies its segments into PostgreSQL (transcript_segments) with the row. Like
 * the embedding, a deployment without a store keeps it as a local file (absolute path).
 */
const transcriptArtifactSchema = z.object({
  videoId: z.string(),
  analyzer: z.string(),
  /** ISO 639-1 as detected by the transcription; absent when the provider did not say. */
  language: z.string().optional(),
  status: z.enum(['present', 'partial', 'unavailable', 'none']),
  segments: z.array(z.object({ startSec: z.number().min(0), endSec: z.number().min(0), text: z.string() })),
});
export type TranscriptArtifact = z.infer<typeof transcriptArtifactSchema>;

/** Writes the artifact to the store (or, without one, under `dir`) and returns where it is. */
export async function saveTranscriptArtifact(storage: ObjectStorage | undefined, dir: string, a: TranscriptArtifact): Promise<string> {
  const body = JSON.stringify(a);
  if (storage) {
    const key = transcriptKey(a.videoId, a.analyzer);
    await storage.putBytes(key, body, 'application/json');
    return key;
  }
  const folder = path.join(dir, a.videoId);
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `transcript.${a.analyzer}.json`);
  await writeFileAtomic(file, body);
  return file;
}

/** The artifact at `location` (a store key, or an absolute local path); undefined when it is not there. Throws when damaged. */
export async function loadTranscriptArtifact(
  location: string,
  storage: ObjectStorage | undefined,
): Promise<TranscriptArtifact | undefined> {
  let raw: string | undefined;
  if (path.isAbsolute(location)) {
    raw = await readFile(location, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  } else {
    if (!storage) throw new Error(`transcript artifact ${location} is in object storage, and this process has none`);
    raw = (await storage.getBytes(location))?.toString('utf8');
  }
  if (raw === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`transcript artifact ${location} is not JSON`);
  }
  const parsed = transcriptArtifactSchema.safeParse(json);
  if (!parsed.success) throw new Error(`transcript artifact ${location} is not a transcript`);
  return parsed.data;
}
