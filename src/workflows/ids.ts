/** Workflow-safe. One workflow id per video id: a second start can only ever find the first run. */
export const VIDEO_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function workflowIdFor(videoId: string): string {
  return `video-${videoId}`;
}

/** The deletion saga of a video: a second DELETE attaches to or repeats the same one. */
export function deletionWorkflowIdFor(videoId: string): string {
  return `delete-video-${videoId}`;
}

/** Re-analysis on demand of an ended run: a second request attaches to the running one. */
export function reanalysisWorkflowIdFor(videoId: string): string {
  return `reanalyze-video-${videoId}`;
}
