import { withPin, type ObjectStorage } from '../../adapters/storage/port';
import type { UrlSealer } from '../../security/sealed-url';

export interface StorageActivityDeps {
  storage: ObjectStorage;
  /** Lifetime of the GET URLs handed to the media step. */
  sourceUrlTtlSec: number;
  /** The ETag an upload was completed with: the URL carries it and the fetch refuses any other object. */
  pinOf?: (key: string) => Promise<string | undefined>;
  /**
   * Seals the signed URL for the media worker: a signature is a bearer credential
   * until it expires, and the local activity's result is kept in the history, which the payload
   * codec's holders (operators, the Web UI's codec server) can read.
   */
  sealer: Pick<UrlSealer, 'seal'>;
}

/**
 * Signs short-lived GET URLs for objects we own, with the worker's credentials. Run as a local
 * activity on the pipeline worker: the workflow carries the object key, and asks for a fresh
 * URL whenever the media step reports the last one expired.
 */
export function createStorageActivities(deps: StorageActivityDeps) {
  return {
    /** The signed GET URL, sealed (src/security/sealed-url.ts): only a media worker opens it. */
    async signSourceUrl(input: { key: string }): Promise<string> {
      const url = (await deps.storage.presignGet(input.key, { expiresInSec: deps.sourceUrlTtlSec })).url;
      return deps.sealer.seal(withPin(url, await deps.pinOf?.(input.key)));
    },
  };
}

export type StorageActivities = ReturnType<typeof createStorageActivities>;
