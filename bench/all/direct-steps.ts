// The baseline of "the steps run directly": the media activities of one short upload called
// in this process, one after another, with the product's defaults and the same local object
// store — no Temporal, no task queues, no worker processes. The same ffmpeg work as an upload's
// media step (plan → single-pass transcode → HLS ladder → analysis inputs → storyboard).
// The wiring is the media worker's (src/workers/media.ts), minus URL sources.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createStorage } from '../../src/adapters/storage';
import {
  createAnalysisInputsActivities,
  createHlsActivities,
  createMediaActivities,
  createSegmentActivities,
  createStoryboardActivities,
} from '../../src/activities/media';
import { loadConfig } from '../../src/config';
import type { TranscodeOutput } from '../../src/workflows/contracts';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export interface DirectRun {
  totalMs: number;
  /** Each activity's own time, in the order they ran. */
  stepsMs: Record<string, number>;
}

export interface DirectSteps {
  /** Runs the media step of `videoId` on `clipName` (a file in the ingest dir). */
  run(videoId: string, clipName: string): Promise<DirectRun>;
  close(): Promise<void>;
}

/** Activities bound to a data dir of their own under `root`, reading clips from `ingestDir`. */
export async function directMediaSteps(root: string, ingestDir: string): Promise<DirectSteps> {
  const config = loadConfig({ BIBLIO_DATA_DIR: root, BIBLIO_INGEST_DIR: ingestDir });
  const storage = await createStorage(config);
  const deps = {
    ffmpeg: config.ffmpeg,
    mediaDir: config.mediaDir,
    tmpDir: config.tmpDir,
    maxSourceBytes: config.api.maxSourceBytes,
    ingestDir: config.ingestDir,
    stallTimeoutMs: config.media.stallTimeoutMs,
    limits: config.media.limits,
    sourceIdleTimeoutMs: config.media.sourceIdleTimeoutMs,
    sourceMinBytesPerSec: config.media.sourceMinBytesPerSec,
    storage,
  };
  const plan = createSegmentActivities({ ...deps, segmentSec: config.media.segmentSec });
  const media = createMediaActivities(deps);
  const common = { ffmpeg: config.ffmpeg, mediaDir: config.mediaDir, stallTimeoutMs: config.media.stallTimeoutMs, storage };
  const inputs = createAnalysisInputsActivities({ ...common, artifactsDir: config.artifactsDir, ...config.ai });
  const hls = createHlsActivities(common);
  const storyboard = createStoryboardActivities({ ...common, tmpDir: config.tmpDir, settings: config.media.storyboard });
  await mkdir(config.tmpDir, { recursive: true });

  const timed = async <T>(steps: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const env = new MockActivityEnvironment({ attempt: 1 }, { logger: quiet });
    const out = (await env.run(fn)) as T;
    steps[name] = performance.now() - t;
    return out;
  };

  return {
    async run(videoId, clipName) {
      // Absolute, as the API hands it to the workflow (it resolves the name in the ingest dir).
      const source = { kind: 'file' as const, path: path.join(ingestDir, clipName) };
      const stepsMs: Record<string, number> = {};
      const began = performance.now();
      const p = await timed(stepsMs, 'planTranscode', () => plan.planTranscode({ videoId, source }));
      if (p.segmented) throw new Error(`${clipName} was planned as a segmented transcode: the direct baseline runs the single pass only`);
      const out: TranscodeOutput = await timed(stepsMs, 'transcode', () => media.transcode({ videoId, source }));
      await timed(stepsMs, 'packageHls', () => hls.packageHls({ videoId, renditionPath: out.renditionPath, segmentSec: p.segmentSec }));
      const facts = { videoId, renditionPath: out.renditionPath, durationSec: out.rendition.durationSec };
      await timed(stepsMs, 'extractAnalysisInputs', () =>
        inputs.extractAnalysisInputs({ ...facts, hasAudio: out.rendition.audioCodec !== null }),
      );
      await timed(stepsMs, 'generateStoryboard', () =>
        storyboard.generateStoryboard({ ...facts, width: out.rendition.width, height: out.rendition.height }),
      );
      return { totalMs: performance.now() - began, stepsMs };
    },
    async close() {
      await storage.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
