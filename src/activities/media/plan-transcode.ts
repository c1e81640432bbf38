/**
 * planTranscode, the first activity of every transcode: fetches and probes the source, then
 * decides. Too short to be worth splitting (or already published): the single pass runs, handed
 * the fetched copy. Long: the source copy and a keyframe-aligned segment plan are stored in
 * object storage (work-store.ts) for the activities of segments.ts, on any media host.
 */
import { Context } from '@temporalio/activity';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { StoredPlan } from '../../media/documents';
import { keyframeProbeArgs } from '../../media/ffmpeg-args';
import { removeIfEmpty, segmentAreaOf } from '../../media/segment-area';
import { DEFAULT_SEGMENT_SEC, parseKeyframePackets, planDigest, planSegments, worthSegmenting } from '../../media/segment-plan';
import { scratchName } from '../../media/work-area';
import { createWorkStore } from '../../media/work-store';
import type { PlanTranscodeInput, TranscodePlan } from '../../workflows/contracts';
import { rethrowDiskFull } from './media-failures';
import { createRenditionSteps } from './rendition';
import { QUICK_TOOL_LIMIT, runTool, startHeartbeats } from './run-tool';
import type { SegmentDeps } from './segments';

export function createPlanTranscodeActivity(deps: SegmentDeps) {
  const { ffprobePath } = deps.ffmpeg;
  const steps = createRenditionSteps(deps);
  const segmentSec = deps.segmentSec ?? DEFAULT_SEGMENT_SEC;
  // No linger: what planning cached is published, and a rejected upload must leave nothing behind at once.
  const work = createWorkStore({ ...deps, cacheLingerMs: 0 });
  const areaOf = work.areaOf;

  /**
   * Fetches and probes the source like `transcode`, stores a copy for the segment activities,
   * and plans keyframe-aligned segments. Short videos (and videos already published) are not segmented:
   * the workflow then runs the single-pass `transcode`.
   */
  async function plan(input: PlanTranscodeInput): Promise<TranscodePlan> {
    const ctx = Context.current();
    const signal = ctx.cancellationSignal;
    const attempt = ctx.info.attempt;
    const { beat, stop } = startHeartbeats(ctx, { phase: 'fetch', percent: 0 });
    const area = areaOf(input.videoId);
    const fetchDir = path.join(area, scratchName('fetch', attempt));
    const releases: (() => Promise<void>)[] = [];
    const unlease = await work.lease(input.videoId);
    const single: TranscodePlan = { segmented: false, segmentSec, count: 0, planDigest: '', hasAudio: false };
    try {
      const key = await steps.outputKey(input.source);
      if (await steps.reusable(path.join(deps.mediaDir, input.videoId), key, signal)) return single;
      // A plan of another source or settings left in the store is worthless: start afresh.
      const old = await work.readPlan(input.videoId);
      if (old && old.key !== key) await work.removeObjects(input.videoId);
      await mkdir(fetchDir, { recursive: true }).catch((err: unknown) => rethrowDiskFull(err, 'creating the work area'));
      const { local, source, deinterlace } = await steps.prepareSource({
        videoId: input.videoId,
        source: input.source,
        workDir: fetchDir,
        signal,
        releases,
        beat,
      });
      if (!worthSegmenting(source.facts.durationSec, segmentSec)) {
        // A downloaded source is handed to the single pass, so a URL or upload is fetched once.
        if (input.source.kind !== 'file' && local.startsWith(fetchDir + path.sep)) await work.handOver(input.videoId, local, key);
        else await work.remove(input.videoId);
        return single;
      }

      beat({ phase: 'plan', percent: 0 });
      const probed = await runTool(
        ffprobePath,
        keyframeProbeArgs(local, source.plan.videoIndex),
        { signal, stall: QUICK_TOOL_LIMIT },
        'the source',
      );
      const keyframes = probed.code === 0 ? parseKeyframePackets(probed.stdout) : [];
      const segments = planSegments({ durationSec: source.facts.durationSec, keyframes, targetSec: segmentSec });
      // The copy every segment activity (on any media host) is cut from; the plan, written
      // after it, publishes both.
      const stored: StoredPlan = {
        key,
        source: await work.publishSource(input.videoId, local),
        facts: source.facts,
        videoIndex: source.plan.videoIndex,
        audioIndex: source.plan.audioIndex,
        deinterlace,
        segments,
        digest: planDigest(key, segments),
      };
      await work.publishPlan(input.videoId, stored);
      ctx.log.info('planned a segmented transcode', {
        videoId: input.videoId,
        segments: segments.length,
        keyframes: keyframes.length,
        segmentSec,
        longestSec: Math.max(...segments.map((s) => s.endSec - s.startSec)),
      });
      return {
        segmented: true,
        segmentSec,
        count: segments.length,
        planDigest: stored.digest,
        facts: source.facts,
        hasAudio: source.plan.audioIndex !== null,
      };
    } finally {
      stop();
      for (const release of releases) await release().catch(() => undefined);
      await rm(fetchDir, { recursive: true, force: true });
      await unlease();
    }
  }

  return {
    /**
     * `plan`, with its rejection path cleaned up: it makes the video's segment work area before
     * it fetches and probes the source, and an upload rejected there (not media, too long, too
     * large…) must not leave that directory behind, empty, for every poison upload. On any
     * failure the area goes if nothing is in it (what a retry may use is in the store).
     */
    async planTranscode(input: PlanTranscodeInput): Promise<TranscodePlan> {
      try {
        return await plan(input);
      } catch (err) {
        await removeIfEmpty(segmentAreaOf(deps.tmpDir, input.videoId));
        throw err;
      }
    },
  };
}
