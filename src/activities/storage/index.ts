import { withPin, type ObjectStorage } from '../../adapters/storage/port';

export interface StorageActivityDeps {
  storage: ObjectStorage;
  /** Lifetime of the GET URLs handed to the media step. */
  sourceUrlTtlSec: number;
  /** The ETag an upload was completed with (issue 26): the URL carries it and the fetch refuses any other object. */
  pinOf?: (key: string) => Promise<string | undefined>;
}

/**
 * Signs short-lived GET URLs for objects we own, with the worker's credentials. Run as a local
 * activity on the pipeline worker: the workflow carries the object key, and asks for a fresh
 * URL whenever the media step reports the last one expired.
 */
export function createStorageActivities(deps: StorageActivityDeps) {
  return {
    async signSourceUrl(input: { key: string }): Promise<string> {
      const url = (await deps.storage.presignGet(input.key, { expiresInSec: deps.sourceUrlTtlSec })).url;
      return withPin(url, await deps.pinOf?.(input.key));
    },
  };
}

export type StorageActivities = ReturnType<typeof createStorageActivities>;
