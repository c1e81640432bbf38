import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStorage } from '../../adapters/storage/port';
import { ErrorType, failure } from '../../errors';
import type { AnalysisInputs } from '../../workflows/contracts';

/**
 * The AI step's inputs as files on this host: the extracting host's copy when this host has it
 * with the digest the history records (same host, or a shared disk), else the published object
 * fetched into `cacheDir`. An input in neither place is AnalysisInputsMissing (typed, naming the
 * input by name only: no host's path ever reaches a status), which a degradable analysis turns
 * into a deferral: a re-analysis cuts the inputs again from the published rendition.
 *
 * The caller removes `cacheDir` when the attempt ends: fetched copies never outlive it.
 */
export async function resolveAnalysisInputs(
  videoId: string,
  inputs: AnalysisInputs,
  opts: { storage?: ObjectStorage; cacheDir: string; signal?: AbortSignal },
): Promise<AnalysisInputs> {
  async function resolve<T extends { path: string; key?: string; sha256: string }>(item: T): Promise<T> {
    if ((await sha256Of(item.path)) === item.sha256) return item;
    const name = path.basename(item.path);
    if (item.key && opts.storage) {
      await mkdir(opts.cacheDir, { recursive: true });
      const file = path.join(opts.cacheDir, name);
      const part = `${file}.part`;
      let found: boolean;
      try {
        found = await opts.storage.getFile(item.key, part, { signal: opts.signal });
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        throw failure(
          ErrorType.StorageUnavailable,
          `could not fetch analysis input ${name} of video ${videoId}: ${(err as Error).message}`,
        );
      }
      if (found && (await sha256Of(part)) === item.sha256) {
        await rename(part, file);
        return { ...item, path: file };
      }
      await rm(part, { force: true });
    }
    throw failure(
      ErrorType.AnalysisInputsMissing,
      `analysis input ${name} of video ${videoId} is neither on this host nor in object storage (or its bytes changed)`,
    );
  }
  const keyframes = [];
  for (const k of inputs.keyframes) keyframes.push(await resolve(k));
  const audioChunks = [];
  for (const c of inputs.audioChunks) audioChunks.push(await resolve(c));
  return { ...inputs, keyframes, audioChunks };
}

/** The file's SHA-256, or undefined when there is no such file here. */
async function sha256Of(file: string): Promise<string | undefined> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch {
    // Absent, unreadable or a directory: not usable here, whatever the reason.
    return undefined;
  }
  return hash.digest('hex');
}
