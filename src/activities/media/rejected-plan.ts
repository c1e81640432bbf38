import { removeIfEmpty } from '../../media/work-dirs';
import type { PlanTranscodeInput, TranscodePlan } from '../../workflows/contracts';
import { workAreaOf } from './segments';

/**
 * planTranscode with its rejection path cleaned up: it makes the video's segment work area
 * (`<tmpDir>/segments/<videoId>/`) before it fetches and probes the source, and an upload
 * rejected there (not media, too long, too large…) left that directory behind, empty, for
 * every poison upload. On any failure the area goes if nothing is in it; an area holding a
 * plan, segments or a fetched source (a retry will use them) stays.
 */
export function removingEmptyAreaOnFailure(
  tmpDir: string,
  planTranscode: (input: PlanTranscodeInput) => Promise<TranscodePlan>,
): (input: PlanTranscodeInput) => Promise<TranscodePlan> {
  return async function planTranscodeWithCleanup(input) {
    try {
      return await planTranscode(input);
    } catch (err) {
      await removeIfEmpty(workAreaOf(tmpDir, input.videoId));
      throw err;
    }
  };
}
