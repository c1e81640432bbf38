// Build step, run by `npm run build` after tsc: bundles the compiled workflows once, so worker
// processes (and the container image) load a file instead of running webpack at every start.
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { writeFileAtomic } from '../media/work-area';
import { WORKFLOW_BUNDLE_PATH, WORKFLOWS_ENTRY } from './workflow-bundle';

async function main(): Promise<void> {
  // webpack's module report at INFO is noise in every build; its warnings and errors still show.
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_ENTRY, logger: new DefaultLogger('WARN') });
  // Written aside then renamed: a worker starting meanwhile sees the old bundle or the new one, never half.
  await writeFileAtomic(WORKFLOW_BUNDLE_PATH, code);
  console.log(`workflow bundle: ${WORKFLOW_BUNDLE_PATH} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((err: Error) => {
  console.error(`workflow bundle failed: ${err.message}`);
  process.exit(1);
});
