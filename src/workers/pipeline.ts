// Workflow worker: runs processVideo on the `pipeline` queue and nothing else, so a crashed
// activity worker never strands workflow tasks on its sticky queue.
import { createStorageActivities } from '../activities/storage';
import { createStorage } from '../adapters/storage';
import { NON_RETRYABLE_ERROR_TYPES } from '../errors';
import { runWorkerProcess } from './run-worker';

runWorkerProcess('pipeline', async (config) => ({
  options: {
    workflowsPath: require.resolve('../workflows'),
    // Local activities of the workflow (signing GET URLs for uploads with this worker's credentials).
    activities: createStorageActivities({ storage: await createStorage(config), sourceUrlTtlSec: config.storage.sourceUrlTtlSec }),
    maxConcurrentWorkflowTaskExecutions: config.workers.pipelineConcurrency,
    // Backstop: a typed error escaping workflow code fails the workflow, not the task (which would retry forever).
    workflowFailureErrorTypes: { '*': [...NON_RETRYABLE_ERROR_TYPES] },
  },
}));
