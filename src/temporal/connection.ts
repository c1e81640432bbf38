import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';

/**
 * Temporal's shared environment configuration (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS*, temporal.toml profiles): the same build reaches the
 * embedded dev server, a self-hosted cluster or Temporal Cloud with no code change.
 */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export function temporalSettings() {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return {
    connectionOptions: { ...connectionOptions, address: connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS },
    namespace: namespace ?? 'default',
  };
}

export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
}

function unreachable(address: string, err: unknown): TemporalUnreachableError {
  return new TemporalUnreachableError(
    `Temporal is not reachable at ${address} (${(err as Error).message}). ` +
      'Start it (npm run demo starts a dev server) or set TEMPORAL_ADDRESS.',
  );
}

export async function connectWorker(): Promise<{ connection: NativeConnection; namespace: string }> {
  const { connectionOptions, namespace } = temporalSettings();
  try {
    return { connection: await NativeConnection.connect(connectionOptions), namespace };
  } catch (err) {
    throw unreachable(connectionOptions.address, err);
  }
}

export async function connectClient(opts: { dataConverter?: DataConverter } = {}): Promise<Client> {
  const { connectionOptions, namespace } = temporalSettings();
  try {
    const connection = await Connection.connect(connectionOptions);
    return new Client({ connection, namespace, dataConverter: opts.dataConverter });
  } catch (err) {
    throw unreachable(connectionOptions.address, err);
  }
}
