/**
 * The workflow layer's harness: the real workflow code on a real Temporal dev server, served by
 * an in-process pipeline Worker configured like src/workers/pipeline.ts, and in-process Workers
 * on the activity queues whose activities are stubs that record every call (name, the task queue
 * it arrived on, local or not, input, how it ended). No PostgreSQL, ffmpeg or worker processes.
 *
 * Every stub is registered on every activity queue on purpose: an activity the workflow routes to
 * the wrong queue still runs, and the test's queue assertion names the mistake, instead of the
 * run hanging on "activity type not registered" retries.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, IllegalStateError } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { AiActivities } from '../../src/activities/ai';
import type { IndexerActivities } from '../../src/activities/indexer';
import { createMediaStepActivities, type MediaActivities, type MediaStepActivities } from '../../src/activities/media';
import type { AnalysisInputsActivities } from '../../src/activities/media/analysis-inputs';
import type { StoryboardActivities } from '../../src/activities/media/storyboard';
import type { HlsActivities } from '../../src/activities/media/hls';
import type { SegmentActivities } from '../../src/activities/media/segments';
import type { StorageActivities } from '../../src/activities/storage';
import { NON_RETRYABLE_ERROR_TYPES } from '../../src/errors';
import { type ACTIVITIES, segmentQueueOf, taskQueues, type ActivityName, type TaskQueues } from '../../src/pipeline/catalogue';
import type {
  AnalysisInputs,
  AnalyzeOutput,
  DeleteVideoInput,
  MediaFacts,
  ProcessVideoInput,
  TranscodeOutput,
} from '../../src/workflows/contracts';
import type { deleteVideo, processVideo } from '../../src/workflows';
import { startTemporal } from '../support/temporal';

type RealActivities = MediaStepActivities &
  MediaActivities &
  SegmentActivities &
  HlsActivities &
  AnalysisInputsActivities &
  StoryboardActivities &
  AiActivities &
  IndexerActivities &
  StorageActivities;

/** The activities processVideo and deleteVideo schedule (the reconciler's are not stubbed here). */
export type StubName = { [K in ActivityName]: (typeof ACTIVITIES)[K]['retry'] extends 'reconcilePage' ? never : K }[ActivityName];
/**
 * What a test stubs: every activity but the media step's composites, which the harness builds from
 * the part stubs with the product's own composition (src/activities/media/media-step.ts), so a
 * test's override of `transcode` or `generateStoryboard` still decides what the step does.
 */
type ComposedName = keyof MediaStepActivities;
export type Stubs = { [K in Exclude<StubName, ComposedName>]: RealActivities[K] };

export interface ActivityCall {
  name: StubName;
  /** The queue the task was delivered on (for a local activity: the workflow's queue). */
  taskQueue: string;
  isLocal: boolean;
  attempt: number;
  input: unknown;
  /** Position in the recorder's one ordered sequence of starts and ends. */
  startSeq: number;
  startedAt: number;
  endSeq?: number;
  endedAt?: number;
  outcome?: 'completed' | 'failed' | 'cancelled';
  error?: { type?: string; message: string };
}

/** Every stub call of one test, in start order, with one sequence that orders starts and ends across queues. */
export class CallRecorder {
  readonly calls: ActivityCall[] = [];
  private seq = 0;
  private listeners: (() => void)[] = [];

  private next(): number {
    return ++this.seq;
  }

  start(call: Omit<ActivityCall, 'startSeq' | 'startedAt'>): ActivityCall {
    const recorded: ActivityCall = { ...call, startSeq: this.next(), startedAt: Date.now() };
    this.calls.push(recorded);
    this.notify();
    return recorded;
  }

  end(call: ActivityCall, outcome: NonNullable<ActivityCall['outcome']>, err?: unknown): void {
    call.endSeq = this.next();
    call.endedAt = Date.now();
    call.outcome = outcome;
    if (err !== undefined) {
      const e = err as { type?: string; message?: string };
      call.error = { type: e.type, message: e.message ?? String(err) };
    }
    this.notify();
  }

  of(name: StubName): ActivityCall[] {
    return this.calls.filter((c) => c.name === name);
  }

  /** The names of the calls, in start order. */
  names(): StubName[] {
    return this.calls.map((c) => c.name);
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs` with what was recorded so far. */
  async until(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`waited ${timeoutMs} ms for ${what}; calls so far: ${this.names().join(', ') || 'none'}`));
      }, timeoutMs);
      this.listeners.push(check);
    });
  }

  /** Resolves with the calls of `name` once there are at least `count` of them. */
  async waitFor(name: StubName, count = 1, timeoutMs?: number): Promise<ActivityCall[]> {
    await this.until(`${count} call(s) of ${name}`, () => this.of(name).length >= count, timeoutMs);
    return this.of(name);
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/**
 * Holds a stub until the workflow cancels its activity. Server-side cancellation reaches an
 * activity only in a heartbeat response, so it heartbeats while it waits; `cleanupMs` stands for
 * the time a real activity takes to stop its ffmpeg after it saw the cancellation.
 */
export async function holdUntilCancelled(cleanupMs = 0): Promise<never> {
  const ctx = Context.current();
  try {
    for (;;) {
      ctx.heartbeat();
      await ctx.sleep(100);
    }
  } catch (err) {
    if (cleanupMs > 0) await delay(cleanupMs);
    throw err;
  }
}

// ---- canned outputs, shaped like the contracts, small ----

export const facts: MediaFacts = {
  durationSec: 20,
  width: 1280,
  height: 720,
  videoCodec: 'h264',
  audioCodec: 'aac',
  frameRate: 30,
  sizeBytes: 2_000_000,
  container: 'mov,mp4,m4a,3gp,3g2,mj2',
};

export function transcodeOutput(videoId: string, from = 'single'): TranscodeOutput {
  return {
    renditionPath: `/media/${videoId}/${from}.mp4`,
    thumbnailPath: `/media/${videoId}/thumb.jpg`,
    source: facts,
    rendition: facts,
  };
}

export const analysisInputs: AnalysisInputs = {
  keyframes: [{ path: '/artifacts/kf-0.jpg', sha256: 'a'.repeat(64), bytes: 1000, atSec: 0 }],
  audioChunks: [],
  audio: 'none',
};

export function fullAnalysis(summary = 'a full analysis'): AnalyzeOutput {
  return { analyzer: 'stub', model: 'stub-model', dim: 8, offline: false, summary, tags: ['stub'], embeddingPath: '/artifacts/e.bin' };
}

export function degradedAnalysis(reason: string): AnalyzeOutput {
  return {
    analyzer: 'metadata',
    model: 'none',
    dim: 8,
    offline: true,
    summary: `metadata only (${reason})`,
    tags: [],
    embeddingPath: '/artifacts/d.bin',
    degraded: true,
  };
}

/** Stubs that succeed with canned outputs; a test overrides the ones its branch is about. */
export function defaultStubs(): Stubs {
  let signed = 0;
  return {
    signSourceUrl: async ({ key }) => `https://storage.test/${key}?sig=${++signed}`,
    planTranscode: async () => ({ segmented: false, segmentSec: 4, count: 0, planDigest: '', hasAudio: true }),
    transcode: async ({ videoId }) => transcodeOutput(videoId),
    encodeSegment: async ({ index }) => ({ index, durationSec: 4, reused: false }),
    encodeAudio: async () => ({ durationSec: facts.durationSec, reused: false }),
    joinSegments: async ({ videoId }) => transcodeOutput(videoId, 'joined'),
    discardSegments: async () => undefined,
    packageHls: async ({ videoId }) => ({
      masterPath: `/media/${videoId}/hls/master.m3u8`,
      variants: [{ name: '720p', width: 1280, height: 720, bandwidth: 2_500_000, codecs: 'avc1.64001f,mp4a.40.2' }],
    }),
    extractAnalysisInputs: async () => analysisInputs,
    generateStoryboard: async () => ({ track: 'storyboard.vtt', intervalSec: 2, tiles: 1, sheets: 1, tileWidth: 160, tileHeight: 90 }),
    analyze: async () => fullAnalysis(),
    analyzeDegraded: async ({ reason }) => degradedAnalysis(reason),
    writeIndexRow: async () => ({ collection: 'videos_stub_8', written: true, charged: [] }),
    upsertVector: async () => undefined,
    markSearchable: async ({ collection }) => ({ collection, indexedAt: '2026-12-01T00:00:00.000Z' }),
    compensateIndex: async () => ({ pointRemoved: true }),
    recordFailure: async () => undefined,
    tombstoneVideo: async ({ videoId }) => ({ existed: true, workflowId: `video-${videoId}` }),
    cancelVideoRun: async () => ({ cancelled: true }),
    removeVideoFiles: async () => ({ removed: 3 }),
    removeVideoPoints: async () => ({ spaces: 2 }),
    purgeVideoRow: async () => ({ purged: true }),
  };
}

function recorded<T extends object>(recorder: CallRecorder, stubs: T): T {
  const wrapped: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(stubs) as [StubName, (input: unknown) => Promise<unknown>][]) {
    wrapped[name] = async (input: unknown) => {
      const { info } = Context.current();
      const call = recorder.start({ name, taskQueue: info.taskQueue, isLocal: info.isLocal, attempt: info.attempt, input });
      try {
        const out = await fn(input);
        recorder.end(call, 'completed');
        return out;
      } catch (err) {
        recorder.end(call, err instanceof CancelledFailure ? 'cancelled' : 'failed', err);
        throw err;
      }
    };
  }
  return wrapped as unknown as T;
}

export interface PipelineUnderTest {
  queues: TaskQueues;
  calls: CallRecorder;
  env: TestWorkflowEnvironment;
  /** A unique video id for this test. */
  videoId: string;
  /**
   * A processVideo input with a file source, plus `over`. The media heartbeat timeout (10 s) only
   * has to outlast a stub's simulated clean-up after a cancellation; how fast a cancellation
   * arrives is set by the Workers' 1 s heartbeat throttle.
   */
  input(over?: Partial<ProcessVideoInput>): ProcessVideoInput;
  startProcessVideo(input: ProcessVideoInput): Promise<WorkflowHandle<typeof processVideo>>;
  startDeleteVideo(input: DeleteVideoInput): Promise<WorkflowHandle<typeof deleteVideo>>;
}

/** One dev server and one workflow bundle per test file; queues, workers and stubs per test. */
export class WorkflowHarness {
  private env?: TestWorkflowEnvironment;
  private bundle?: WorkflowBundleWithSourceMap;

  async start(): Promise<void> {
    quietRuntime();
    const [env, bundle] = await Promise.all([startTemporal(), cachedWorkflowBundle()]);
    this.env = env;
    this.bundle = bundle;
  }

  async stop(): Promise<void> {
    await this.env?.teardown();
  }

  /**
   * Runs `body` against the real workflows with `overrides` on top of the default stubs, on
   * queues of their own (so no other test's workers can take these tasks), then stops the workers.
   */
  async run(
    label: string,
    overrides: (calls: CallRecorder) => Partial<Stubs>,
    body: (p: PipelineUnderTest) => Promise<void>,
  ): Promise<void> {
    const { env, bundle } = this;
    if (!env || !bundle) throw new Error('WorkflowHarness.start() must run first (beforeAll)');
    const prefix = `${label}-${randomUUID().slice(0, 8)}-`;
    const queues = taskQueues(prefix);
    const calls = new CallRecorder();
    const parts = recorded(calls, { ...defaultStubs(), ...overrides(calls) });
    const stubs = { ...parts, ...recorded(calls, createMediaStepActivities(parts)) };
    const connection = env.nativeConnection;
    const workers = await Promise.all([
      // As src/workers/pipeline.ts: the workflows, the signing local activity, the failure-type backstop.
      Worker.create({
        connection,
        taskQueue: queues.pipeline,
        workflowBundle: bundle,
        activities: { signSourceUrl: stubs.signSourceUrl },
        workflowFailureErrorTypes: { '*': [...NON_RETRYABLE_ERROR_TYPES] },
      }),
      ...[queues.media, segmentQueueOf(queues.media), queues.ai, queues.index].map((taskQueue) =>
        Worker.create({
          connection,
          taskQueue,
          activities: stubs,
          // As the media worker: cancellations and progress reach a heartbeating activity within 1 s.
          maxHeartbeatThrottleInterval: '1s',
        }),
      ),
    ]);
    const runs = workers.map((w) => w.run());
    const videoId = `${prefix}v`;
    const p: PipelineUnderTest = {
      queues,
      calls,
      env,
      videoId,
      input: (over = {}) => ({
        version: 1,
        videoId,
        source: { kind: 'file', path: `/ingest/${videoId}.mp4` },
        queues,
        mediaHeartbeatTimeoutMs: 10_000,
        ...over,
      }),
      startProcessVideo: (input) =>
        env.client.workflow.start<typeof processVideo>('processVideo', {
          workflowId: `video-${input.videoId}`,
          taskQueue: queues.pipeline,
          args: [input],
        }),
      startDeleteVideo: (input) =>
        env.client.workflow.start<typeof deleteVideo>('deleteVideo', {
          workflowId: `delete-video-${input.videoId}`,
          taskQueue: queues.pipeline,
          args: [input],
        }),
    };
    let stopped: PromiseSettledResult<void>[];
    try {
      await body(p);
    } finally {
      // Stubs still holding (a failed assertion mid-run) are cancelled by the shutdown.
      for (const w of workers) w.shutdown();
      stopped = await Promise.allSettled(runs);
    }
    const crashed = stopped.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (crashed) throw crashed.reason;
  }
}

/**
 * Lines every test here provokes on purpose (a stub that fails, a run that fails, activity-only
 * Workers): the recorder and the assertions already say what happened.
 */
const EXPECTED_WARNINGS = new Set(['No workflows registered, not polling for workflow tasks', 'Activity failed', 'Workflow failed']);

/**
 * Worker life-cycle lines at INFO and the expected warnings would bury a failing test's output;
 * any other warning (a failed workflow task, a non-determinism error) still shows. One Runtime per
 * test file: jest loads each file's modules afresh.
 */
function quietRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', ({ level, message, meta }) => {
        if (!EXPECTED_WARNINGS.has(message)) console.warn(`[${level}] ${message}`, meta ?? '');
      }),
    });
  } catch (err) {
    if (!(err instanceof IllegalStateError)) throw err;
  }
}

const SRC = path.resolve(__dirname, '..', '..', 'src');
const BUNDLE_CACHE = path.join(os.tmpdir(), 'biblio-workflow-bundles');
const DAY_MS = 24 * 3600 * 1000;

/**
 * The real workflow code, bundled once per state of src/ rather than once per file: webpack takes
 * 3–9 s on two busy cores, which would be most of this layer's time. The key covers every source
 * file (workflows import the catalogue, presets and errors) and the SDK version (its bundler and
 * sandbox), so an edit — a test temporarily breaking a branch included — gets a fresh bundle.
 */
async function cachedWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  const hash = createHash('sha256');
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort();
  for (const file of files) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(SRC, file)));
  }
  for (const pkg of ['@temporalio/worker', '@temporalio/workflow']) hash.update(readFileSync(require.resolve(`${pkg}/package.json`)));
  const file = path.join(BUNDLE_CACHE, `${hash.digest('hex').slice(0, 32)}.json`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
  } catch {
    // Not cached yet (or half-written by a crashed run): bundle below.
  }
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../src/workflows'), logger: quietBundlerLogger });
  mkdirSync(BUNDLE_CACHE, { recursive: true });
  for (const old of readdirSync(BUNDLE_CACHE)) {
    const at = path.join(BUNDLE_CACHE, old);
    if (Date.now() - statSync(at).mtimeMs > DAY_MS) rmSync(at, { force: true });
  }
  // Written aside and renamed: a file running in parallel never reads half a bundle.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(bundle));
  renameSync(tmp, file);
  return bundle;
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/** The typed error a failed run ended with (processVideo fails with the step's ApplicationFailure). */
export async function failureTypeOf(result: Promise<unknown>): Promise<string | undefined> {
  const err: unknown = await result.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw new Error(`expected the run to fail, it ended with ${String(err)}`);
  return err.cause instanceof ApplicationFailure ? (err.cause.type ?? undefined) : err.cause?.name;
}

/** Activity types whose cancellation the workflow requested (ActivityTaskCancelRequested), sorted. */
export function cancelRequested(history: temporal.api.history.v1.IHistory): string[] {
  const events = history.events ?? [];
  const typeOf = new Map(events.map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name]));
  return events
    .flatMap((e) => {
      const requested = e.activityTaskCancelRequestedEventAttributes;
      return requested ? [typeOf.get(String(requested.scheduledEventId)) ?? '?'] : [];
    })
    .sort();
}

/** How many durable timers the run started (the re-analysis schedule is made of them). */
export function startedTimers(history: temporal.api.history.v1.IHistory): number {
  return (history.events ?? []).filter((e) => e.timerStartedEventAttributes).length;
}

/** Polls `read` until `predicate` holds (a query result, typically); fails with the last value. */
export async function eventually<T>(what: string, read: () => Promise<T>, predicate: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (predicate(last)) return last;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}; last value: ${JSON.stringify(last)}`);
    await delay(100);
  }
}
