import type { ObjectStorage } from '../../adapters/storage/port';

export interface StorageActivityDeps {
  storage: ObjectStorage;
  /** Lifetime of the GET URLs handed to the media step. */
  sourceUrlTtlSec: number;
}

/**
 * Signs short-lived GET URLs for objects we own, with the worker's credentials. Run as a local
 * activity on the pipeline worker: the workflow carries the object key, and asks for a fresh
 * URL whenever the media step reports the last one expired.
 */
export function createStorageActivities(deps: StorageActivityDeps) {
  return {
    async signSourceUrl(input: { key: string }): Promise<string> {
      return (await deps.storage.presignGet(input.key, { expiresInSec: deps.sourceUrlTtlSec })).url;
    },
  };
}

export type StorageActivities = ReturnType<typeof createStorageActivities>;
