/**
 * The pure decisions of processVideo, apart from the workflow so unit tests can table-test them
 * without a Temporal server. Workflow-safe: no Node imports.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../errors';
import type { AnalysisInputsInput, StoryboardInput, TranscodeOutput, VideoSource } from './contracts';

/** Re-analysis timers when an AiDeferred failure carries no schedule of its own. */
export const DEFAULT_REANALYZE_DELAYS_MS: readonly number[] = [60_000, 600_000, 3_600_000];
/** Bound on the re-analysis timers one run may set (history stays small). */
export const MAX_REANALYSES = 10;
/** Bound on the URL refreshes one run may take. */
export const MAX_SOURCE_REFRESHES = 5;

/** The typed failure an activity ended with, if it was one of ours. */
export function failureOf(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause;
  return undefined;
}

/** The type and message the run fails with: the step's own typed error where there is one. */
export function describeFailure(err: unknown): { type: string; message: string } {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return { type: err.cause.type ?? 'ActivityFailed', message: err.cause.message };
  }
  if (err instanceof ActivityFailure) {
    return { type: err.cause?.name ?? 'ActivityFailed', message: err.cause?.message ?? err.message };
  }
  if (err instanceof ApplicationFailure) return { type: err.type ?? 'ApplicationFailure', message: err.message };
  if (err instanceof Error) return { type: err.name, message: err.message };
  return { type: 'UnknownError', message: String(err) };
}

/** The analysis failed in a way that leaves the video usable on a metadata-only stand-in. */
export function degradesInsteadOfFailing(err: unknown): boolean {
  const type = failureOf(err)?.type;
  return type === ErrorType.AiDeferred || type === ErrorType.AiContentRejected;
}

/** A failed re-analysis that no later timer can fix (the provider refused the content or our key). */
export function reanalysisIsFutile(err: unknown): boolean {
  const type = failureOf(err)?.type;
  return type === ErrorType.AiContentRejected || type === ErrorType.AiRejected;
}

/** The media step reported that its source URL expired. */
export function sourceUrlExpired(err: unknown): boolean {
  return failureOf(err)?.type === ErrorType.SourceUrlExpired;
}

/** When to try a deferred analysis again: the schedule rides on the AiDeferred failure (the activity reads config; a workflow may not). */
export function reanalyzeDelays(f: ApplicationFailure): number[] {
  const details = f.details?.[0] as { reanalyzeDelaysMs?: unknown } | undefined;
  const raw = Array.isArray(details?.reanalyzeDelaysMs) ? details.reanalyzeDelaysMs : [];
  const delays = raw.filter((d): d is number => typeof d === 'number' && d > 0).slice(0, MAX_REANALYSES);
  return delays.length > 0 ? delays : [...DEFAULT_REANALYZE_DELAYS_MS];
}

/**
 * A timer with up to +50 % jitter, drawn from the workflow's seeded Math.random (replays
 * identically): videos degraded by the same outage must not all come back at the same moment.
 */
export function jittered(delayMs: number, random: number): number {
  return Math.round(delayMs * (1 + random / 2));
}

/** A human hint for the analyzer: the source's file name without its extension. */
export function titleOf(source: VideoSource): string {
  const raw = source.kind === 'file' ? source.path : source.kind === 'upload' ? source.key : (source.url.split('?')[0] ?? source.url);
  const last = raw.split('/').filter(Boolean).pop() ?? raw;
  return last.replace(/\.[A-Za-z0-9]{1,5}$/, '');
}

/** What the analysis inputs are cut from: the published rendition (step by step and inside the media task alike). */
export function analysisInputsInputOf(videoId: string, media: TranscodeOutput): AnalysisInputsInput {
  return {
    videoId,
    renditionPath: media.renditionPath,
    durationSec: media.rendition.durationSec,
    hasAudio: media.rendition.audioCodec !== null,
  };
}

/** What the storyboard is cut from: the published rendition, at its size. */
export function storyboardInputOf(videoId: string, media: TranscodeOutput): StoryboardInput {
  const { durationSec, width, height } = media.rendition;
  return { videoId, renditionPath: media.renditionPath, durationSec, width, height };
}
