import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

/** The workflows' entry module: dist/workflows/index.js when built, src/workflows/index.ts under tsx. */
export const WORKFLOWS_ENTRY = require.resolve('../workflows');

/** Where `npm run build` writes the prebuilt bundle: dist/workflow-bundle.js (under tsx it never exists). */
export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflow-bundle.js');

export type WorkflowCode =
  | { kind: 'bundle'; options: Pick<WorkerOptions, 'workflowBundle'>; path: string }
  | { kind: 'workflowsPath'; options: Pick<WorkerOptions, 'workflowsPath'>; path: string; reason: string };

/**
 * The prebuilt bundle when it is there and current, else the workflows' source path: webpack then
 * bundles at every worker start, which costs about 2 s of time-to-ready on 2 idle cores and 4 s on
 * loaded ones (bench/worker-start.ts).
 */
export function workflowCode(bundlePath = WORKFLOW_BUNDLE_PATH, workflowsEntry = WORKFLOWS_ENTRY): WorkflowCode {
  const fallback = (reason: string): WorkflowCode => ({
    kind: 'workflowsPath',
    options: { workflowsPath: workflowsEntry },
    path: workflowsEntry,
    reason,
  });
  const bundled = mtimeMs(bundlePath);
  if (bundled === undefined) return fallback(`no prebuilt bundle at ${bundlePath}`);
  // The whole compiled tree, not only workflows/: the workflows import the catalogue and the error
  // types from beside it, and `tsc --watch` re-emits only the files that changed.
  const compiled = newestMtimeMs(path.dirname(path.dirname(workflowsEntry)), bundlePath);
  if (compiled > bundled) return fallback(`${bundlePath} is older than the compiled code: run \`npm run build\``);
  return { kind: 'bundle', options: { workflowBundle: { codePath: bundlePath } }, path: bundlePath };
}

function mtimeMs(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestMtimeMs(dir: string, except: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(file, except));
    else if (file !== except && /\.[jt]s$/.test(entry.name)) newest = Math.max(newest, mtimeMs(file) ?? 0);
  }
  return newest;
}
