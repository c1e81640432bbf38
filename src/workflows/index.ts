// The workflow bundle's entry: every function exported here is a workflow type the pipeline worker serves.
export { processVideo } from './process-video';
export { reconcileIndex } from './reconcile-index';
export { deleteVideo } from './delete-video';
export { reanalyzeVideo } from './reanalyze-video';
