// Workflow worker: runs processVideo on the `pipeline` queue and nothing else, so a crashed
// activity worker never strands workflow tasks on its sticky queue.
import { withTypedDatabaseErrors } from '../activities/indexer/database-errors';
import { createStorageActivities } from '../activities/storage';
import { createStorage } from '../adapters/storage';
import { createPool } from '../db/database';
import { createRepositories } from '../db/repositories';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { loadUrlSealer } from '../security/sealed-url';
import { workflowCode } from '../temporal/workflow-bundle';
import { runWorkerProcess } from './run-worker';

runWorkerProcess('pipeline', async (config, log) => {
  const code = workflowCode();
  if (code.kind === 'bundle') log.info({ workflowCode: code.kind, path: code.path }, 'workflow code: prebuilt bundle');
  else log.info({ workflowCode: code.kind, path: code.path, reason: code.reason }, 'workflow code: bundling from source at start');
  const storage = await createStorage(config);
  // Only to read the ETag an upload was completed with, which every signed GET of it carries.
  const pool = createPool(config.databaseUrl, 2);
  const { uploads } = createRepositories(pool);
  return {
    options: {
      ...code.options,
      // Local activities of the workflow (signing GET URLs for uploads with this worker's credentials).
      // Reading an upload's ETag needs the main DB: an outage is a typed, retryable
      // DatabaseUnavailable that the signing preset rides out, not a raw ECONNREFUSED.
      activities: withTypedDatabaseErrors(
        createStorageActivities({
          storage,
          sourceUrlTtlSec: config.storage.sourceUrlTtlSec,
          pinOf: (key) => uploads.pinOf(key),
          sealer: await loadUrlSealer(config),
        }),
      ),
      maxConcurrentWorkflowTaskExecutions: config.workers.pipelineConcurrency,
      // Backstop: a typed error escaping workflow code fails the workflow, not the task (which would retry forever).
      workflowFailureErrorTypes: { '*': [...NON_RETRYABLE_ERROR_TYPES] },
    },
    // Fails the attempts of a lost media worker even when no other media worker is up yet.
    liveness: { watchdog: true },
    close: async () => {
      await storage.close();
      await pool.end();
    },
  };
});
