import { decide, type AdmissionLimits, type Measurement } from '../../src/api/admission';
import { inferStep } from '../../src/app/status-fallbacks';
import type { QueueStats } from '../../src/temporal/queue-stats';

const limits: AdmissionLimits = { maxBacklog: 10, maxBacklogAgeMs: 60_000, maxRunning: 100, cacheMs: 1_000 };
const queue = (q: Partial<QueueStats>): QueueStats => ({
  queue: 'media',
  kind: 'activity',
  backlogCount: 0,
  backlogAgeMs: 0,
  addRate: 0,
  dispatchRate: 0,
  pollersSeen: 1,
  pollersRecent: 1,
  lastPollAgoMs: 0,
  ...q,
});
const m = (queues: QueueStats[], running: number | null = 0): Measurement => ({ at: 0, queues, running });

test('admits while every queue is under its limits', () => {
  expect(decide(m([queue({ backlogCount: 9, backlogAgeMs: 59_000 })], 99), limits)).toEqual({ admit: true });
});

test('refuses on backlog count with a Retry-After from the drain rate', () => {
  const v = decide(m([queue({ backlogCount: 30, dispatchRate: 2 })]), limits);
  expect(v).toMatchObject({ admit: false, reason: 'backlog', queue: 'media', retryAfterSec: 11 });
});

test('refuses on backlog age (consumer lag) and on running workflows', () => {
  expect(decide(m([queue({ backlogAgeMs: 120_000 })]), limits)).toMatchObject({ admit: false, reason: 'backlog_age', retryAfterSec: 60 });
  expect(decide(m([queue({})], 100), limits)).toMatchObject({ admit: false, reason: 'running', queue: null });
});

test('a limit of 0 is off, an unknown running count does not refuse, Retry-After stays within 1–300 s', () => {
  const off = { ...limits, maxBacklog: 0, maxBacklogAgeMs: 0, maxRunning: 0 };
  expect(decide(m([queue({ backlogCount: 1e6, backlogAgeMs: 1e9 })], 1e6), off)).toEqual({ admit: true });
  expect(decide(m([queue({})], null), limits)).toEqual({ admit: true });
  const slow = decide(m([queue({ backlogCount: 10_000, dispatchRate: 0.01 })]), limits);
  expect(slow).toMatchObject({ retryAfterSec: 300 });
});

test('a running workflow whose query cannot be answered never regresses to queued', () => {
  expect(inferStep('analyze', 20, undefined)).toBe('analyze');
  expect(inferStep('writeIndexRow', 20, 'analyze')).toBe('index');
  expect(inferStep(undefined, 12, 'analyze')).toBe('analyze');
  expect(inferStep(undefined, 12, undefined)).toBe('transcode');
  expect(inferStep(undefined, 2, undefined)).toBe('queued');
});
