/**
 * Everything that runs on the media queue (and on its `<media>-segments` queue): one factory
 * per group of activities, and the type of them all.
 */
import type { AnalysisInputsActivities } from './analysis-inputs';
import type { HlsActivities } from './hls';
import type { MediaStepActivities } from './media-step';
import type { SegmentActivities } from './segments';
import type { MediaActivities } from './single-pass';
import type { StoryboardActivities } from './storyboard';

export {
  createAnalysisInputsActivities,
  sweepAnalysisScratch,
  type AnalysisInputsActivities,
  type AnalysisInputsDeps,
} from './analysis-inputs';
export { createHlsActivities, sweepHlsStaging, type HlsActivities, type HlsDeps } from './hls';
export { createMediaStepActivities, type MediaStepActivities, type MediaStepParts } from './media-step';
export { DEFAULT_LIMITS, type MediaDeps } from './rendition';
export { createSegmentActivities, type SegmentActivities, type SegmentDeps } from './segments';
export { createMediaActivities, type MediaActivities } from './single-pass';
export { createStoryboardActivities, type StoryboardActivities, type StoryboardDeps } from './storyboard';

export type MediaQueueActivities = MediaStepActivities &
  MediaActivities &
  SegmentActivities &
  HlsActivities &
  AnalysisInputsActivities &
  StoryboardActivities;
