// The 3-step pipeline as Temporal workflows: once with regular activities (how Biblio runs its
// steps: each one a task on the matching service, recorded as scheduled/started/completed
// events) and once with local activities (run inside the workflow task, one marker event each).
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { PipelineInput } from '../pipeline';
import type * as activities from './temporal-activities';

const remote = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });
const local = proxyLocalActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

export async function pipeline(input: PipelineInput): Promise<number> {
  const x = await remote.step1(input.n);
  const y = await remote.step2(x, input.work);
  return remote.step3(y);
}

export async function pipelineLocal(input: PipelineInput): Promise<number> {
  const x = await local.step1(input.n);
  const y = await local.step2(x, input.work);
  return local.step3(y);
}
