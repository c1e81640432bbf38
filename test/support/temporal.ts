import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';

const ROOT = path.resolve(__dirname, '..', '..');

/** The real Temporal CLI binary (npm test exports TEMPORAL_CLI; a bare `npx jest` resolves it here). */
export function temporalCliPath(): string {
  if (process.env.TEMPORAL_CLI) return process.env.TEMPORAL_CLI;
  const resolved = execFileSync('bash', [path.join(ROOT, 'scripts', 'ensure-temporal-cli.sh')], { encoding: 'utf8' }).trim();
  process.env.TEMPORAL_CLI = resolved;
  return resolved;
}

/**
 * A real Temporal dev server (in-memory history) on a free port, one per test file — or, with
 * TEMPORAL_TARGET=cluster (npm run test:cluster), the already running cluster at TEMPORAL_ADDRESS.
 * `extraArgs` (server flags such as dynamic config a file's tests depend on) always get a dev
 * server of their own: a shared cluster cannot take them.
 */
export function startTemporal(extraArgs?: string[]): Promise<TestWorkflowEnvironment> {
  if (process.env.TEMPORAL_TARGET === 'cluster' && !extraArgs) {
    const address = process.env.TEMPORAL_ADDRESS;
    if (!address) throw new Error('TEMPORAL_TARGET=cluster needs TEMPORAL_ADDRESS (scripts/cluster/start.sh prints it)');
    return TestWorkflowEnvironment.createFromExistingServer({ address, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  }
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalCliPath() }, extraArgs },
  });
}
