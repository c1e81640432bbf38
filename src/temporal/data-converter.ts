import type { DataConverter } from '@temporalio/common';
import { loadSecret } from '../security/dev-secrets';
import { dataConverterWith } from './payload-codec';

/** The data converter of every client and worker: BIBLIO_PAYLOAD_KEY, else the data dir's generated key. */
export async function loadDataConverter(config: { payloadKey?: string; dataDir: string }): Promise<DataConverter> {
  return dataConverterWith(await loadSecret(config.payloadKey, config.dataDir, 'payload-key'));
}
